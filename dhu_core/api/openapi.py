"""The OpenAPI 3.1 document of the API, made from its response models and parameters."""

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dhu_core.api import parameters, schemas
from dhu_core.api.http import API_VERSION, PREFIX
from dhu_core.api.parameters import Parameter

_TAG_HEADERS = {
    "ETag": {
        "description": "Send it back as If-None-Match to get 304 while the data hold",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"schema": {"type": "string"}},
}
_ID = {"type": "integer", "minimum": 1}


def document() -> dict[str, Any]:
    """The OpenAPI document served at /api/v1/openapi.json (a copy, free to change)."""
    return copy.deepcopy(_document())


@cache
def _document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(model, "serialization") for model in schemas.RESPONSES],
        ref_template="#/components/schemas/{model}",
    )
    paths = {
        "practices": _get(
            "Search the published practices",
            "The catalogue's search: the same filters as the RADAR page's address, any value "
            "within a filter and every filter given; pages follow next_cursor.",
            schemas.PracticeList,
            parameters.PRACTICES,
        ),
        "practices/{practice_id}": _get(
            "One published practice", "", schemas.Practice, (), path_id="practice_id"
        ),
        "countries": _get(
            "Uptake figures per country",
            "The uptake map's figures for every country, with a public indicator.",
            schemas.CountryList,
            parameters.COUNTRIES,
        ),
        "digests": _get(
            "Published digests", "Newest first.", schemas.DigestList, parameters.DIGESTS
        ),
        "digests/{digest_id}": _get(
            "One published digest", "", schemas.Digest, (), path_id="digest_id"
        ),
        "code-lists": _get(
            "The code lists", "The values the filters take, with labels.", schemas.CodeLists, ()
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DHU Platform API",
            "version": API_VERSION,
            "description": "Read-only access to the published data of the Digital Health "
            "Uptake platform: practices, uptake per country, digests and code lists. "
            "Answers carry an ETag; send it as If-None-Match to get 304 while the data hold.",
        },
        "paths": {PREFIX + path: {"get": operation} for path, operation in paths.items()},
        "components": {"schemas": definitions["$defs"]},
    }


def _get(
    summary: str,
    description: str,
    model: type[BaseModel],
    accepted: tuple[Parameter, ...],
    *,
    path_id: str | None = None,
) -> dict[str, Any]:
    described = [parameter.openapi() for parameter in accepted]
    if path_id:
        described.insert(0, {"name": path_id, "in": "path", "required": True, "schema": _ID})
    return {
        "summary": summary,
        "description": description,
        "operationId": summary.lower().replace(" ", "-"),
        "parameters": described,
        "responses": {
            "200": {
                "description": "OK",
                "headers": _TAG_HEADERS,
                "content": {"application/json": {"schema": _ref(model)}},
            },
            "304": {"description": "Not modified: the ETag sent still holds"},
            "400": _error("A parameter is unknown or has a value it does not take"),
            "404": _error("Nothing public here"),
            "429": _error(
                "Too many requests from this client",
                headers={"Retry-After": {"schema": {"type": "integer"}}},
            ),
            "503": _error("The database is not ready"),
            "default": _error("Something went wrong on the server"),
        },
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _error(description: str, *, headers: dict | None = None) -> dict[str, Any]:
    answer = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schemas.Error)}},
    }
    return answer | ({"headers": headers} if headers else {})
