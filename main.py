"""DHU Platform app script: start-up, sign-in, navigation per role, the frame of every page."""

import streamlit as st

from dhu_core.ui import auth, language, shell

st.set_page_config(page_icon=shell.ICON, layout="wide")
shell.prepare()
language.choose()
user = auth.restore_session()
page = shell.navigation(user)
shell.sidebar(user)
shell.demo_banner(page)
shell.run_page(page)
