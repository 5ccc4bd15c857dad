"""Cached reads, keyed by their arguments and the version of the data they show, so a write
shows at once, and a write elsewhere (a draft, a message) leaves them as they are.

Each read names the scopes it shows (see `dhu_core.changes`); when unsure, name one more.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st

from dhu_core import (
    catalogue,
    db,
    demo,
    demo_logins,
    exchange,
    i18n,
    indexes,
    knowledge,
    live,
    matching,
    organisations,
    practices,
    similarity,
    uptake,
)
from dhu_core.calls import lessons
from dhu_core.changes import ACCOUNTS, CATALOGUE, DRAFTS, KNOWLEDGE, ORGANISATIONS, TWINNING
from dhu_core.config import get_settings
from dhu_core.i18n import N_, _
from dhu_core.indexes import BackgroundIndex
from dhu_core.knowledge import DigestView
from dhu_core.models import PracticePublic, utcnow

#: Published practices with their organisations, tags and deployments.
PRACTICES = (CATALOGUE,)
#: Practices and the twinnings between them (the map, the home page's figures, suggestions).
UPTAKE = (CATALOGUE, TWINNING)
#: Digests (with their authors' names) and the practices they link.
DIGESTS = (KNOWLEDGE, CATALOGUE, ACCOUNTS)
#: Lessons-learned cases: a twinning's need, practice and organisations.
CASES = (KNOWLEDGE, CATALOGUE, TWINNING)


def data_version(*scopes: str) -> int:
    """The current version of `scopes` (one cheap query per call)."""
    return db.data_version(scopes=scopes)


@st.cache_data(show_spinner=False, max_entries=32)
def _headline_figures(version: int) -> uptake.HeadlineFigures:
    return uptake.headline_figures()


@st.cache_data(show_spinner=False, max_entries=32)
def _newest_practices(version: int, limit: int) -> list:
    return practices.newest_practices(limit=limit)


def headline_figures() -> uptake.HeadlineFigures:
    """Home page figures for the current data."""
    return _headline_figures(data_version(*UPTAKE))


def newest_practices(limit: int = 5) -> list:
    """The newest published practices for the current data."""
    return _newest_practices(data_version(*PRACTICES), limit)


def is_demo() -> bool:
    """True when the database holds the demo data set."""
    return db.is_demo()


@st.cache_data(show_spinner=False, max_entries=4)
def _enabled_demo_accounts(version: int) -> list[str]:
    return demo_logins.enabled_accounts(demo.DEMO_USERNAMES)


def enabled_demo_accounts() -> list[str]:
    """The demo accounts that exist and are enabled in the current data."""
    return _enabled_demo_accounts(data_version(ACCOUNTS))


@st.cache_data(show_spinner=False, max_entries=4)
def _organisation_choices(version: int) -> dict[int, str]:
    return organisations.organisation_choices()


def organisation_choices() -> dict[int, str]:
    """Every organisation as id -> label, for select boxes."""
    return _organisation_choices(data_version(ORGANISATIONS))


@st.cache_data(show_spinner=False, max_entries=256)
def _search(version: int, day: date, query: catalogue.CatalogueQuery) -> catalogue.CataloguePage:
    return catalogue.search(query)


def search(query: catalogue.CatalogueQuery) -> catalogue.CataloguePage:
    """A catalogue page for the current data and day (practices become "may be outdated" from
    one day to the next)."""
    return _search(data_version(*PRACTICES), utcnow().date(), query)


@st.cache_data(show_spinner=False, max_entries=256)
def _public_practice(version: int, practice_id: int) -> PracticePublic | None:
    return practices.public_practice(practice_id=practice_id)


def public_practice(practice_id: int) -> PracticePublic | None:
    """A listed or archived practice (its address opens both), or None."""
    return _public_practice(data_version(*PRACTICES), practice_id)


def _similarity_index() -> similarity.SimilarityIndex:
    return _served(_indexes().similarity, data_version(*PRACTICES))


def _titles(ids: list[int]) -> dict[int, str]:
    return {p.id: p.title for p in practices.public_titles(ids)}


@dataclass(frozen=True)
class _Indexes:
    similarity: BackgroundIndex[similarity.SimilarityIndex]
    matching: BackgroundIndex[matching.MatchingIndex]


def _indexes() -> _Indexes:
    """This process's indexes of the configured database."""
    return _indexes_of(get_settings().sqlalchemy_url)


#: What a visitor reads while the first request of a process waits for an index.
_PREPARING = {
    "similarity index": N_("Preparing the similar practices…"),
    "matching index": N_("Preparing the twinning suggestions…"),
}


@st.cache_resource(show_spinner=False, max_entries=1)
def _indexes_of(url: str) -> _Indexes:
    """Each built in a process of its own for a large catalogue (see `indexes.built`)."""
    return _Indexes(
        BackgroundIndex(
            lambda: indexes.built(indexes.similarity_index, url), name="similarity index"
        ),
        BackgroundIndex(lambda: indexes.built(indexes.matching_index, url), name="matching index"),
    )


def start_indexes() -> None:
    """Start building the indexes in the background, so the first visitor needing one finds
    it ready (once per process: they are built again only when the data moves on)."""
    indexes = _indexes()
    indexes.similarity.refresh(data_version(*PRACTICES))
    indexes.matching.refresh(data_version(*UPTAKE))


def _served(index: BackgroundIndex, version: int):
    """The newest built `index`, a build of `version` started if it is newer; only the
    process's first request waits."""
    if index.ready:
        return index.get(version)
    with st.spinner(_(_PREPARING[index.name])):
        return index.get(version)


def similar_to_text(title: str, summary: str, *, exclude: int | None = None) -> list:
    """(id, title, score) of the published practices most like this text, scored as if it
    were published in place of practice `exclude` (the one being edited, never listed).

    The index may be a few seconds older than the data: a practice unpublished since is left
    out (`_titles` reads the listed ones), one published since shows once it is indexed."""
    found = _similarity_index().similar_to_text(title, summary, k=5, replacing=exclude)
    titles = _titles([i for i, _ in found])
    return [(i, titles[i], score) for i, score in found if i in titles]


def similar_to_practice(practice_id: int) -> list:
    """(id, title, score) of the published practices most like this one."""
    found = _similarity_index().similar_to_practice(practice_id, k=5)
    titles = _titles([i for i, _ in found])
    return [(i, titles[i], score) for i, score in found if i in titles]


# --- knowledge community and live workshops ----------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def _spotlights(version: int) -> list[PracticePublic]:
    return knowledge.spotlights()


def spotlights() -> list[PracticePublic]:
    """Featured practices with their analysis."""
    return _spotlights(data_version(*PRACTICES))


@st.cache_data(show_spinner=False, max_entries=8)
def _digest_topics(version: int) -> dict[str, int]:
    return knowledge.digest_topics()


def digest_topics() -> dict[str, int]:
    """Topic -> number of published digests."""
    return _digest_topics(data_version(*DIGESTS))


@st.cache_data(show_spinner=False, max_entries=64)
def _published_digests(version: int, topic: str | None, text: str) -> list:
    return knowledge.published_digests(topic=topic, text=text)


def published_digests(topic: str | None = None, text: str = "") -> list:
    """Published digests with `topic` and the words of `text`, newest first."""
    return _published_digests(data_version(*DIGESTS), topic, text)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_digest(version: int, digest_id: int) -> DigestView | None:
    return knowledge.published_digest(digest_id)


def published_digest(digest_id: int) -> DigestView | None:
    """The published digest `digest_id`, or None."""
    return _published_digest(data_version(*DIGESTS), digest_id)


def published_cases(text: str = "") -> list[lessons.CaseView]:
    """The published lessons-learned cases containing every word of `text`."""
    return _published_cases(data_version(*CASES), text)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_cases(version: int, text: str) -> list[lessons.CaseView]:
    with db.read_scope() as session:
        return lessons.published_cases(session=session, text=text)


def published_case(case_id: int) -> lessons.CaseView | None:
    """The published lessons-learned case `case_id`, or None."""
    return _published_case(data_version(*CASES), case_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_case(version: int, case_id: int) -> lessons.CaseView | None:
    with db.read_scope() as session:
        return lessons.published_case(session=session, case_id=case_id)


def practice_cases(practice_id: int) -> list[lessons.CaseView]:
    """The published lessons-learned cases of the twinnings that transferred a practice."""
    return _practice_cases(data_version(*CASES), practice_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _practice_cases(version: int, practice_id: int) -> list[lessons.CaseView]:
    with db.read_scope() as session:
        return lessons.cases_of_practice(session=session, practice_id=practice_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _linked_practices(version: int, ids: tuple[int, ...]) -> list[PracticePublic]:
    return knowledge.linked_practices(list(ids))


def linked_practices(ids: list[int]) -> list[PracticePublic]:
    """The published practices among `ids`, in that order."""
    return _linked_practices(data_version(*PRACTICES), tuple(ids))


def practice_titles(ids: list[int]) -> dict[int, str]:
    """Id -> title of the published practices among `ids`."""
    return {p.id: p.title for p in linked_practices(ids)}


@st.cache_data(show_spinner=False, max_entries=64)
def _open_needs(version: int, text: str) -> list:
    return exchange.open_needs(text=text)


def open_needs(text: str = "") -> list:
    """Open twinning needs for the demand and supply board."""
    return _open_needs(data_version(*UPTAKE), text)


@st.cache_data(show_spinner=False, max_entries=64)
def _offerings(version: int, text: str) -> list[PracticePublic]:
    return exchange.offerings(text=text)


def offerings(text: str = "") -> list[PracticePublic]:
    """Transferable published practices for the demand and supply board."""
    return _offerings(data_version(*PRACTICES), text)


@st.cache_data(show_spinner=False, max_entries=8)
def _captures_since(version: int, since: datetime) -> int:
    return live.captures_since(since)


def captures_last_hour() -> int:
    """Quick captures of the last hour (counted again at most once a minute or per write)."""
    minute = utcnow().replace(second=0, microsecond=0)
    return _captures_since(data_version(DRAFTS), minute - timedelta(hours=1))


@st.cache_data(show_spinner=False, max_entries=8)
def _uptake_by_country(version: int, language: str) -> pd.DataFrame:
    # `language`: the frame holds the countries' names in the page's language.
    return uptake.country_uptake(uptake.UptakeFilters())


def uptake_by_country() -> pd.DataFrame:
    """Every map metric per core country, counting all published practices."""
    return _uptake_by_country(data_version(*UPTAKE), i18n.current())


# --- uptake map ----------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _uptake_overview(version: int, filters: uptake.UptakeFilters, language: str) -> uptake.Uptake:
    # `language`: the frames hold code-list labels and country names in the page's language.
    return uptake.overview(filters)


def uptake_overview(filters: uptake.UptakeFilters) -> uptake.Uptake:
    """Uptake by country, flows, twinnings and practice profiles for `filters` and current data."""
    return _uptake_overview(data_version(*UPTAKE), filters, i18n.current())


@st.cache_data(show_spinner=False, max_entries=256)
def _country_detail(
    version: int, filters: uptake.UptakeFilters, country: str
) -> uptake.CountryDetail:
    return uptake.country_detail(filters, country)


def country_detail(filters: uptake.UptakeFilters, country: str) -> uptake.CountryDetail:
    """A country's practice profile and practices for `filters` and the current data."""
    return _country_detail(data_version(*UPTAKE), filters, country)


@st.cache_data(show_spinner=False, max_entries=4)
def _registration_years(version: int) -> tuple[int, int]:
    return uptake.registration_years()


def registration_years() -> tuple[int, int]:
    """The years in which practices were registered, for the year filter."""
    return _registration_years(data_version(*PRACTICES))


def matching_index() -> matching.MatchingIndex:
    """The practices open for twinning, as matrices: the newest built index, which may be a
    few seconds older than the data while the next one is built (see `_served`). What is
    chosen from it is checked against the database (see `twinning.shortlist`)."""
    return _served(_indexes().matching, data_version(*UPTAKE))
