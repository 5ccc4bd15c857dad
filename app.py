"""DHU Platform entry point: start-up, navigation per role and the frame around every page."""

import streamlit as st

from dhu_core.ui import shell

st.set_page_config(page_title="DHU Platform", page_icon=shell.ICON, layout="wide")
shell.prepare()
page = st.navigation(shell.pages())
shell.demo_banner()
page.run()
