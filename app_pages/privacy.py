"""The privacy notice: the operator's own, or the one that comes with the platform."""

import streamlit as st

from dhu_core import site_pages
from dhu_core.config import get_settings
from dhu_core.i18n import _
from dhu_core.ui import knowledge_view

st.title(_("Privacy notice"))
knowledge_view.rich_text(site_pages.privacy_notice(settings=get_settings()))
