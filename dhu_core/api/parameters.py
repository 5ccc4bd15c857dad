"""The query parameters of each API address: what the routes accept and the OpenAPI document
describes, from one list."""

from dataclasses import dataclass
from typing import Any

from dhu_core import catalogue, geo, taxonomy, uptake

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
PRACTICES = (
    *FILTERS,
    Parameter(
        "sort",
        "Order: relevance (to the words, else newest), newest, oldest, title, maturity",
        _enum(catalogue.SORTS),
    ),
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
