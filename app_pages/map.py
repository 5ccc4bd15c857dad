"""Uptake map: where practices are taken up across Europe, and how countries compare."""

import streamlit as st

from dhu_core import uptake
from dhu_core.i18n import _
from dhu_core.ui import cached, uptake_view

span = cached.registration_years()
uptake_view.open_from_url(span)

st.title(_("Uptake map"))
st.markdown(
    _(
        "Where digital health practices registered on the platform are deployed across Europe, "
        "where they come from, and how countries compare. Click a country for its practices."
    )
)
filters = uptake_view.filters(span)
data = cached.uptake_overview(filters)
if data.profile.empty:
    st.info(_("No published practice matches these filters."), icon=":material/filter_list_off:")

metric = uptake_view.metric_choice()
map_column, panel = st.columns([2, 1], gap="large")
with map_column:
    uptake_view.uptake_map(data, metric)
with panel:
    country = uptake_view.country_panel(data, filters)

st.divider()
uptake_view.practice_charts(data)
indicator = uptake_view.indicator_comparison(data.countries, metric)

view = uptake.UptakeView(filters=filters, metric=metric, country=country, indicator=indicator)
st.query_params.from_dict(view.to_params())
