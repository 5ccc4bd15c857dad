"""The addresses of the API and their endpoints: read the parameters, call a service, answer.

Endpoints never open the database; they call the services the pages call, so the API and the
pages show the same data (`catalogue.search` behind both the catalogue page and /practices).
"""

import dataclasses
from urllib.parse import urlencode

import pandas as pd
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from dhu_core import catalogue, knowledge, practices, uptake
from dhu_core import params as url
from dhu_core.api import cursors, openapi, parameters, schemas
from dhu_core.api.http import PREFIX, NotFound, endpoint, public_base
from dhu_core.catalogue import CatalogueQuery
from dhu_core.models import LISTED_STATUS
from dhu_core.params import InvalidParameter


@endpoint
def practice_list(request: Request) -> JSONResponse:
    """GET /api/v1/practices: a page of the catalogue, with the catalogue page's filters."""
    params = parameters.read(request, parameters.PRACTICES)
    limit = int(url.last(params.get("limit")) or parameters.DEFAULT_LIMIT)
    offset = cursors.read(url.last(params.get("cursor"))) if params.get("cursor") else 0
    if offset % limit:
        raise InvalidParameter("cursor", "this cursor was made with another limit; keep it")
    with_facets = parameters.BOOLEANS[url.last(params.get("facets")) or "false"]
    query = dataclasses.replace(
        CatalogueQuery.from_params(params), page=offset // limit + 1, page_size=limit
    )
    found = catalogue.search(query)
    # Past the end (the result shrank since the cursor was made) the catalogue shows its last
    # page; here the page is empty.
    beyond = found.page != query.page
    following = offset + limit
    next_cursor = cursors.make(following) if not beyond and following < found.total else None
    base = public_base(request)
    listing = schemas.PracticeList(
        data=[] if beyond else [schemas.practice(p, base=base) for p in found.practices],
        total=found.total,
        next_cursor=next_cursor,
        links=schemas.Links(next=_next_page(base, request, next_cursor)),
        facets=found.facets if with_facets else None,
    )
    return _json(listing, exclude=None if with_facets else {"facets"})


@endpoint
def practice_item(request: Request) -> JSONResponse:
    """GET /api/v1/practices/{practice_id}: one listed practice."""
    parameters.read(request, ())
    practice_id = url.identifier(request.path_params["practice_id"])
    found = practices.public_practice(practice_id=practice_id) if practice_id else None
    # An archived practice still opens on its page (with a notice), but is no longer listed.
    if found is None or found.status != LISTED_STATUS:
        raise NotFound("No published practice has this id.")
    return _json(schemas.practice(found, base=public_base(request)))


@endpoint
def country_list(request: Request) -> JSONResponse:
    """GET /api/v1/countries: the uptake map's figures per country, with a public indicator."""
    params = parameters.read(request, parameters.COUNTRIES)
    code = url.last(params.get("indicator")) or uptake.DEFAULT_INDICATOR
    public = uptake.ehealth_indicator(code).set_index("country")
    countries = uptake.country_uptake(uptake.UptakeFilters())
    data = [
        schemas.Country(
            code=row.country,
            name=row.name,
            population=int(row.population),
            **{metric: getattr(row, metric) for metric in uptake.METRICS},
            indicator=_indicator(code, public, row.country),
        )
        for row in countries.itertuples(index=False)
    ]
    return _json(schemas.CountryList(data=data))


def _indicator(code: str, public: pd.DataFrame, country: str) -> schemas.Indicator | None:
    if country not in public.index:
        return None
    year, value = public.loc[country, ["year", "value"]]
    return schemas.Indicator(
        code=code,
        label=uptake.INDICATORS[code],
        value=float(value),
        year=int(year),
        source=uptake.INDICATOR_SOURCE,
    )


@endpoint
def digest_list(request: Request) -> JSONResponse:
    """GET /api/v1/digests: published digests, newest first."""
    params = parameters.read(request, parameters.DIGESTS)
    found = knowledge.published_digests(
        topic=url.last(params.get("topic")) or None, text=url.last(params.get("q"))
    )
    base = public_base(request)
    # The practices of all digests in one read, not one per digest.
    ids = sorted({practice_id for item in found for practice_id in item.practice_ids})
    listed = {practice.id: practice for practice in knowledge.linked_practices(ids)}
    data = [
        schemas.digest(item, [listed[i] for i in item.practice_ids if i in listed], base=base)
        for item in found
    ]
    return _json(schemas.DigestList(data=data, total=len(data)))


@endpoint
def digest_item(request: Request) -> JSONResponse:
    """GET /api/v1/digests/{digest_id}: one published digest."""
    parameters.read(request, ())
    digest_id = url.identifier(request.path_params["digest_id"])
    found = knowledge.published_digest(digest_id) if digest_id else None
    if found is None:
        raise NotFound("No published digest has this id.")
    linked = knowledge.linked_practices(found.practice_ids)
    return _json(schemas.digest(found, linked, base=public_base(request)))


@endpoint
def code_lists(request: Request) -> JSONResponse:
    """GET /api/v1/code-lists: the values of the filters, with their labels."""
    parameters.read(request, ())
    return _json(schemas.code_lists())


@endpoint
def openapi_document(request: Request) -> JSONResponse:
    """GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API."""
    parameters.read(request, ())
    return JSONResponse(openapi.document())


@endpoint
def not_found(request: Request) -> JSONResponse:
    """Any other address under /api/v1/."""
    raise NotFound(f"Nothing at {request.url.path}; see {PREFIX}openapi.json for the addresses.")


def _next_page(base: str, request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return f"{base}{request.url.path}?{urlencode([*kept, ('cursor', cursor)])}"


def _json(model: BaseModel, *, exclude: set[str] | None = None) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", exclude=exclude))


#: The API's addresses; more (feeds, open data) are added before `NOT_FOUND`.
ROUTES: list[BaseRoute] = [
    Route(f"{PREFIX}practices", practice_list, methods=["GET"]),
    Route(f"{PREFIX}practices/{{practice_id}}", practice_item, methods=["GET"]),
    Route(f"{PREFIX}countries", country_list, methods=["GET"]),
    Route(f"{PREFIX}digests", digest_list, methods=["GET"]),
    Route(f"{PREFIX}digests/{{digest_id}}", digest_item, methods=["GET"]),
    Route(f"{PREFIX}code-lists", code_lists, methods=["GET"]),
    Route(f"{PREFIX}openapi.json", openapi_document, methods=["GET"]),
]
NOT_FOUND = Route(PREFIX + "{rest:path}", not_found, methods=["GET"])
