"""About: the three pillars of the platform and who runs this installation."""

import streamlit as st

from dhu_core import site_pages
from dhu_core.config import get_settings
from dhu_core.i18n import _
from dhu_core.ui import knowledge_view

st.title(_("About the DHU Platform"))
knowledge_view.rich_text(site_pages.about(settings=get_settings()))
