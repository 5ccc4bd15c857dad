"""Unsubscribe from a kind of e-mail, from the link in one (no sign-in needed)."""

import streamlit as st

from dhu_core.i18n import _
from dhu_core.ui import notification_view

st.title(_("Unsubscribe"))
notification_view.unsubscribe_page()
