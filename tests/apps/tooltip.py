"""A map whose country name is markup, as a practice title may be (test_browser_tooltip)."""

import pandas as pd
import streamlit as st

from dhu_core import geo, maps, uptake
from tests.apps import HOSTILE

codes = list(geo.countries())
countries = pd.DataFrame(
    {"country": codes, "name": [HOSTILE if c == "EE" else geo.country_name(c) for c in codes]}
)
for metric in uptake.METRICS:
    countries[metric] = [7 if code == "EE" else 0 for code in codes]
st.pydeck_chart(maps.uptake_map(countries, "deployed"), height=600)
