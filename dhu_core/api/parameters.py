"""The query parameters of each API address: what the routes accept and the OpenAPI document
describes, from one list."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from dhu_core import catalogue, geo, taxonomy, uptake
from dhu_core.params import InvalidParameter

BOOLEANS = {"true": True, "false": False}
#: The most results on one page, and the number when `limit` is not given.
MAX_LIMIT = catalogue.MAX_PAGE_SIZE
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Parameter:
    """A query parameter; a `repeated` one takes several values (repeated keys or commas)."""

    name: str
    description: str
    schema: dict[str, Any]
    repeated: bool = False

    def openapi(self) -> dict[str, Any]:
        """The parameter as an OpenAPI 3.1 Parameter Object."""
        schema = {"type": "array", "items": self.schema} if self.repeated else self.schema
        described = {"name": self.name, "in": "query", "description": self.description}
        return described | {"required": False, "schema": schema, "style": "form", "explode": True}


def _enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": [str(value) for value in values]}


TEXT = Parameter(
    "q",
    "Words to look for, all of them (the last one also as the start of a word)",
    {"type": "string", "maxLength": catalogue.MAX_TEXT},
)
#: The catalogue's filters, with the names of its URL parameters: any value within one
#: filter, and every filter given.
FILTERS = (
    TEXT,
    Parameter("type", "Practice types", _enum(taxonomy.PRACTICE_TYPES), repeated=True),
    Parameter(
        "maturity",
        "Maturity levels",
        {"type": "integer", "enum": list(taxonomy.MATURITY_LEVELS)},
        repeated=True,
    ),
    Parameter(
        "country",
        "Countries of deployment (ISO 3166-1 alpha-2)",
        _enum(geo.country_names()),
        repeated=True,
    ),
    Parameter("domain", "Health domains", _enum(taxonomy.HEALTH_DOMAINS), repeated=True),
    Parameter(
        "dhi",
        "WHO DHI groups (1.0 to 4.0), categories or interventions; a group or category "
        "includes every code under it",
        _enum([*taxonomy.DHI_GROUPS, *taxonomy.DHI_CODES]),
        repeated=True,
    ),
    Parameter("standard", "Standards", _enum(taxonomy.STANDARDS), repeated=True),
    Parameter("language", "Languages (ISO 639-1)", _enum(taxonomy.LANGUAGES), repeated=True),
    Parameter("transferable", "Whether the owner offers to transfer it", _enum(("yes", "no"))),
    Parameter(
        "freshness",
        "current: confirmed within the reminder period; outdated: may be outdated",
        _enum(catalogue.FRESHNESS),
    ),
)
SORT = Parameter(
    "sort",
    "Order: relevance (to the words, else newest), newest, oldest, title, maturity",
    _enum(catalogue.SORTS),
)
PRACTICES = (
    *FILTERS,
    SORT,
    Parameter(
        "limit",
        "Practices per page",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    Parameter(
        "cursor",
        "Where the page starts: next_cursor of the page before (keep the same limit)",
        {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
    ),
    Parameter("facets", "Add the counts per filter value", {"type": "boolean", "default": False}),
)
COUNTRIES = (
    Parameter(
        "indicator",
        "The public indicator given with each country (Eurostat: "
        + ", ".join(f"{code} {label.lower()}" for code, label in uptake.INDICATORS.items())
        + ")",
        _enum(uptake.INDICATORS) | {"default": uptake.DEFAULT_INDICATOR},
    ),
)
DIGESTS = (
    Parameter("topic", "Only digests on this topic", {"type": "string", "maxLength": 100}),
    Parameter("q", "Words the digest holds, all of them", {"type": "string", "maxLength": 200}),
)


def read(request: Request, accepted: Sequence[Parameter]) -> dict[str, list[str]]:
    """The query parameters of `request` as name -> values, each checked against its schema
    in `accepted` (so exactly the codes the OpenAPI document lists); InvalidParameter for any
    other, and for a parameter `accepted` does not name."""
    known = {parameter.name: parameter for parameter in accepted}
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    for name, values in params.items():
        parameter = known.get(name)
        if parameter is None:
            takes = ", ".join(known) or "no parameters"
            raise InvalidParameter(
                name, f"unknown parameter '{name}' (this address takes: {takes})"
            )
        if len(values) > 1 and not parameter.repeated:
            raise InvalidParameter(name, f"give {name} once")
        for value in values:
            for item in value.split(",") if parameter.repeated else [value]:
                _check(parameter, item)
    return params


def _check(parameter: Parameter, value: str) -> None:
    """InvalidParameter unless `value` is one the parameter's schema allows."""
    schema, name = parameter.schema, parameter.name
    if "enum" in schema and value not in {str(allowed) for allowed in schema["enum"]}:
        shown = ", ".join(str(allowed) for allowed in schema["enum"][:8])
        more = ", …" if len(schema["enum"]) > 8 else ""
        raise InvalidParameter(name, f"unknown {name} '{value}' (use one of: {shown}{more})")
    if schema["type"] == "integer":
        least, most = schema.get("minimum", 0), schema.get("maximum", 2**31)
        # Leading zeros aside, a number in range has no more digits than `most`; Python
        # refuses to read more than 4,300 (ValueError).
        digits = value.lstrip("0") or "0"
        if not (
            value.isascii()
            and value.isdigit()
            and len(digits) <= len(str(most))
            and least <= int(digits) <= most
        ):
            raise InvalidParameter(name, f"{name} must be a whole number from {least} to {most}")
    if schema["type"] == "boolean" and value not in BOOLEANS:
        raise InvalidParameter(name, f"{name} is true or false")
    if len(value) > schema.get("maxLength", len(value)):
        raise InvalidParameter(name, f"{name} can have at most {schema['maxLength']} characters")
    if "pattern" in schema and not re.fullmatch(schema["pattern"].strip("^$"), value):
        raise InvalidParameter(name, f"{name} is not valid")
