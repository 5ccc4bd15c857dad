"""The accessibility statement: the operator's own, or the one that comes with the platform."""

import streamlit as st

from dhu_core import site_pages
from dhu_core.config import get_settings
from dhu_core.i18n import _
from dhu_core.ui import knowledge_view

st.title(_("Accessibility statement"))
knowledge_view.rich_text(site_pages.accessibility_statement(settings=get_settings()))
