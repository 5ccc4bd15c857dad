"""Forgot password: ask for a link to set a new one, by e-mail."""

import streamlit as st

from dhu_core.i18n import _
from dhu_core.ui import notification_view

st.title(_("Forgot your password?"))
st.caption(_("Give the e-mail address of your account; a link to set a new password goes to it."))
notification_view.forgot_password_page()
