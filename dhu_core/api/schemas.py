"""What the API answers: pydantic models of its JSON, and their making from the services' data.

Only public fields: a practice's contact e-mail, its status and the accounts behind the
platform never appear here.
"""

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from dhu_core import freshness, geo, taxonomy
from dhu_core.knowledge import DigestView, render_markdown
from dhu_core.models import PracticePublic


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Code(_Model):
    """A code of a code list with its label."""

    code: str
    label: str


class Level(_Model):
    """A maturity level: 1 (concept) to 5 (cross-border)."""

    code: int = Field(ge=1, le=5)
    label: str


class Owner(_Model):
    """The organisation that owns a practice."""

    name: str
    country: str = Field(description="ISO 3166-1 alpha-2 code")


class Practice(_Model):
    """A published practice."""

    id: int
    url: str = Field(description="The practice's page on the platform")
    title: str
    text_language: Code = Field(description="The language its title and texts are written in")
    summary: str
    description: str | None
    practice_type: Code
    maturity: Level
    start_year: int | None
    evidence: str | None
    licence: str | None
    transferable: bool | None
    support_offered: str | None
    transfer_capacity: int = Field(description="Twinnings the owner can support at once")
    website: str | None
    owner_organisation: Owner
    countries: list[Code] = Field(description="Countries where the practice is deployed")
    health_domains: list[Code]
    dhi_codes: list[Code] = Field(description="WHO Classification of Digital Health Interventions")
    standards: list[Code]
    languages: list[Code]
    featured: bool
    published_at: datetime | None
    last_confirmed_at: datetime | None
    may_be_outdated: bool = Field(description="Not confirmed as current for a long time")


class Links(_Model):
    """Addresses of related pages of a result."""

    next: str | None = Field(description="The next page of the result, or null on the last")


class PracticeList(_Model):
    """One page of the practices matching a search."""

    data: list[Practice]
    total: int = Field(description="How many practices match, on every page together")
    next_cursor: str | None
    links: Links
    facets: dict[str, dict[str, int]] | None = Field(
        default=None,
        description="With facets=true: per filter, how many matching practices have each value "
        "(counted without that filter's own choice)",
    )


class Indicator(_Model):
    """A public indicator of a country: the share of individuals (16-74) in percent."""

    code: str
    label: str
    value: float
    year: int
    source: str


class Country(_Model):
    """The uptake figures of a country, as the uptake map shows them."""

    code: str
    name: str
    population: int
    deployed: int = Field(description="Published practices deployed in the country")
    per_million: float = Field(description="Practices deployed per million inhabitants")
    mature: int = Field(description="Practices deployed at maturity 3 (deployed) or above")
    adopted: int = Field(description="Deployed practices whose owner is in another country")
    originated: int = Field(description="Practices whose owner is in the country")
    twinnings: int = Field(description="Agreed, in-transfer and completed twinnings")
    indicator: Indicator | None = Field(description="The latest value of the chosen indicator")


class CountryList(_Model):
    """Uptake figures of every country on the map."""

    data: list[Country]


class PracticeLink(_Model):
    """A published practice a digest points to."""

    id: int
    url: str
    title: str


class Digest(_Model):
    """A published digest of the knowledge community."""

    id: int
    url: str = Field(description="The digest's page on the platform")
    title: str
    language: Code = Field(description="The language it is written in")
    topics: list[str]
    body: str = Field(description="The text in Markdown")
    html: str = Field(description="The text as sanitised HTML")
    practices: list[PracticeLink]
    published_at: datetime | None


class DigestList(_Model):
    """Published digests, newest first."""

    data: list[Digest]
    total: int


class CodeLists(_Model):
    """The code lists of the platform, the values the filters take."""

    practice_types: list[Code]
    maturity_levels: list[Level]
    health_domains: list[Code]
    dhi_groups: list[Code]
    dhi_codes: list[Code]
    standards: list[Code]
    languages: list[Code]
    countries: list[Code]


class Problem(_Model):
    """What went wrong, and the parameter at fault when one is."""

    status: int
    message: str
    field: str | None = None


class Error(_Model):
    """An error answer."""

    error: Problem


#: Models of the answers, for the OpenAPI document.
RESPONSES = (PracticeList, Practice, CountryList, DigestList, Digest, CodeLists, Error)


def practice(item: PracticePublic, *, base: str, now: datetime | None = None) -> Practice:
    """The API's view of a listed practice; `base` is the platform's address."""
    return Practice(
        id=item.id,
        url=f"{base}/radar?practice={item.id}",
        title=item.title,
        text_language=_code(taxonomy.LANGUAGES, item.text_language),
        summary=item.summary,
        description=item.description,
        practice_type=_code(taxonomy.PRACTICE_TYPES, item.practice_type),
        maturity=Level(code=item.maturity, label=taxonomy.MATURITY_LEVELS.label(item.maturity)),
        start_year=item.start_year,
        evidence=item.evidence,
        licence=item.licence,
        transferable=item.transferable,
        support_offered=item.support_offered,
        transfer_capacity=item.transfer_capacity,
        website=item.website,
        owner_organisation=Owner(name=item.owner_organisation, country=item.owner_country),
        countries=[Code(code=c, label=geo.country_name(c)) for c in item.countries],
        health_domains=[_code(taxonomy.HEALTH_DOMAINS, c) for c in item.health_domains],
        dhi_codes=[_code(taxonomy.DHI_CODES, c) for c in item.dhi_codes],
        standards=[_code(taxonomy.STANDARDS, c) for c in item.standards],
        languages=[_code(taxonomy.LANGUAGES, c) for c in item.languages],
        featured=item.featured,
        published_at=_utc(item.published_at),
        last_confirmed_at=_utc(item.last_confirmed_at),
        may_be_outdated=freshness.may_be_outdated(item.last_confirmed_at, now),
    )


def digest(item: DigestView, practices: list[PracticePublic], *, base: str) -> Digest:
    """The API's view of a published digest with the listed practices it points to."""
    return Digest(
        id=item.id,
        url=f"{base}/knowledge?digest={item.id}",
        title=item.title,
        language=_code(taxonomy.LANGUAGES, item.language),
        topics=item.topics,
        body=item.body,
        html=render_markdown(item.body),
        practices=[
            PracticeLink(id=p.id, url=f"{base}/radar?practice={p.id}", title=p.title)
            for p in practices
        ],
        published_at=_utc(item.published_at),
    )


def code_lists() -> CodeLists:
    """Every code list with its labels."""
    return CodeLists(
        practice_types=_codes(taxonomy.PRACTICE_TYPES),
        maturity_levels=[
            Level(code=code, label=label) for code, label in taxonomy.MATURITY_LEVELS.labels.items()
        ],
        health_domains=_codes(taxonomy.HEALTH_DOMAINS),
        dhi_groups=_codes(taxonomy.DHI_GROUPS),
        dhi_codes=_codes(taxonomy.DHI_CODES),
        standards=_codes(taxonomy.STANDARDS),
        languages=_codes(taxonomy.LANGUAGES),
        countries=[Code(code=code, label=name) for code, name in geo.country_names().items()],
    )


def _code(code_list: taxonomy.CodeList, code: str) -> Code:
    return Code(code=code, label=code_list.label(code))


def _codes(code_list: taxonomy.CodeList) -> list[Code]:
    return [Code(code=str(code), label=label) for code, label in code_list.labels.items()]


def _utc(moment: datetime | None) -> datetime | None:
    """A stored time with its zone: SQLite keeps UTC times without one."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
