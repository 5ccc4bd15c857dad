"""Data and API: the open data, feeds and JSON API, for people who reuse the platform's data."""

import streamlit as st

from dhu_core import site_pages
from dhu_core.config import get_settings
from dhu_core.i18n import _
from dhu_core.ui import addresses, knowledge_view

st.title(_("Data and API"))
knowledge_view.rich_text(
    site_pages.data_and_api(
        settings=get_settings(),
        base_path=addresses.base_path(),
        app_url=addresses.app_url("data-and-api"),
    )
)
