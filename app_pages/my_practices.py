"""My practices: the organisation's practices with their status, freshness and figures."""

import streamlit as st

from dhu_core.i18n import _
from dhu_core.ui import my_practices_view, shell

user = shell.page_for_role("owner", "coordinator", "admin")
st.title(_("My practices"))
my_practices_view.show(user)
