"""Cached reads, keyed by their arguments and the data version, so a write shows at once."""

import streamlit as st

from dhu_core import catalogue, db, organisations, practices, similarity, uptake
from dhu_core.models import PracticePublic


def data_version() -> int:
    """The current data version (one cheap query per rerun)."""
    return db.data_version()


@st.cache_data(show_spinner=False, max_entries=32)
def _headline_figures(version: int) -> uptake.HeadlineFigures:
    return uptake.headline_figures()


@st.cache_data(show_spinner=False, max_entries=32)
def _newest_practices(version: int, limit: int) -> list:
    return practices.newest_practices(limit=limit)


def headline_figures() -> uptake.HeadlineFigures:
    """Home page figures for the current data."""
    return _headline_figures(data_version())


def newest_practices(limit: int = 5) -> list:
    """The newest published practices for the current data."""
    return _newest_practices(data_version(), limit)


def is_demo() -> bool:
    """True when the database holds the demo data set."""
    return db.is_demo()


@st.cache_data(show_spinner=False, max_entries=4)
def _organisation_choices(version: int) -> dict[int, str]:
    return organisations.organisation_choices()


def organisation_choices() -> dict[int, str]:
    """Every organisation as id -> label, for select boxes."""
    return _organisation_choices(data_version())


@st.cache_data(show_spinner=False, max_entries=256)
def _search(version: int, query: catalogue.CatalogueQuery) -> catalogue.CataloguePage:
    return catalogue.search(query)


def search(query: catalogue.CatalogueQuery) -> catalogue.CataloguePage:
    """A catalogue page for the current data."""
    return _search(data_version(), query)


@st.cache_data(show_spinner=False, max_entries=256)
def _published_practice(version: int, practice_id: int) -> PracticePublic | None:
    return practices.published_practice(practice_id=practice_id)


def published_practice(practice_id: int) -> PracticePublic | None:
    """A published practice, or None."""
    return _published_practice(data_version(), practice_id)


@st.cache_resource(show_spinner="Indexing practices for similarity…", max_entries=1)
def _similarity_index(version: int) -> similarity.SimilarityIndex:
    return similarity.SimilarityIndex.build()


def _titles(ids: list[int]) -> dict[int, str]:
    return {p.id: p.title for p in practices.public_titles(ids)}


def similar_to_text(title: str, summary: str, *, exclude: int | None = None) -> list:
    """(id, title, score) of the published practices most like this text."""
    found = _similarity_index(data_version()).similar_to_text(
        title, summary, k=5, exclude_ids=(exclude,) if exclude else ()
    )
    titles = _titles([i for i, _ in found])
    return [(i, titles[i], score) for i, score in found if i in titles]


def similar_to_practice(practice_id: int) -> list:
    """(id, title, score) of the published practices most like this one."""
    found = _similarity_index(data_version()).similar_to_practice(practice_id, k=5)
    titles = _titles([i for i, _ in found])
    return [(i, titles[i], score) for i, score in found if i in titles]
