"""DHU Platform entry point: the Streamlit app (main.py) and the JSON API (/api/v1/) in one
process. `streamlit run app.py` serves both, and so does `uvicorn app:app`."""

import streamlit as st

from dhu_core import api, nodelay

# The pages' shell and cached reads pull in the text model and SciPy (seconds of imports): load
# them with the process, before it answers its health check, rather than in the first visitor's
# page run (each process of `dhu serve --workers N` had one slow first visitor).
from dhu_core.ui import shell  # noqa: F401

nodelay.enable()

app = st.App("main.py", routes=api.routes(), middleware=api.middleware(), lifespan=api.lifespan)
