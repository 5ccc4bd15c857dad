"""DHU Platform entry point: the Streamlit app (main.py) and the JSON API (/api/v1/) in one
process. `streamlit run app.py` serves both, and so does `uvicorn app:app`."""

import streamlit as st

from dhu_core import api, catalogue, matching, need_tags, nodelay, similarity, twinning, uptake

#: The pages' services pull in the text model, SciPy and pandas (seconds of imports): loaded with
#: the process, before it answers its health check, rather than in the first visitor's page run
#: (each process of `dhu serve --workers N` had one slow first visitor). Not the pages' own
#: modules (`dhu_core.ui`): a component declared outside a page run never shows, and the sign-in
#: cookie is written by one.
LOADED_WITH_THE_PROCESS = (catalogue, matching, need_tags, similarity, twinning, uptake)

nodelay.enable()

app = st.App("main.py", routes=api.routes(), middleware=api.middleware(), lifespan=api.lifespan)
