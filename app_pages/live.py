"""Live: the presenter view for a workshop's big screen, refreshed every few seconds (?every=N)."""

import streamlit as st

from dhu_core import live
from dhu_core.i18n import _
from dhu_core.ui import addresses, live_view

live_view.presenter_layout()
every = live.refresh_seconds(st.query_params.get("every"))
url = live.capture_url(addresses.app_url("live"))
st.title(_("Digital Health Uptake · live"), anchor=False)
live_view.live_board(url, every)
