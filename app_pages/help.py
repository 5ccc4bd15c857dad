"""Help: finding and registering practices, how twinning scores work, and a glossary."""

import streamlit as st

from dhu_core import site_pages
from dhu_core.config import get_settings
from dhu_core.i18n import _
from dhu_core.ui import knowledge_view

st.title(_("Help"))
knowledge_view.rich_text(site_pages.help_page(settings=get_settings()))
