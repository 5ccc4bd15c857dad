"""Cached reads, keyed by their arguments and the data version, so a write shows at once."""

import streamlit as st

from dhu_core import db, organisations, practices, uptake


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
