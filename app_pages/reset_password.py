"""Set a new password from the link of a reset e-mail (no sign-in needed)."""

import streamlit as st

from dhu_core.i18n import _
from dhu_core.ui import notification_view

st.title(_("Set a new password"))
notification_view.reset_password_page()
