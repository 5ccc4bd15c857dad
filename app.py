"""DHU Platform entry point: the Streamlit app (main.py) and the JSON API (/api/v1/) in one
process. `streamlit run app.py` serves both, and so does `uvicorn app:app`."""

import streamlit as st

from dhu_core import api, nodelay

nodelay.enable()

app = st.App("main.py", routes=api.routes(), middleware=api.middleware(), lifespan=api.lifespan)
