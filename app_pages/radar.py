"""RADAR: find digital health practices; filters live in the URL so a view can be shared."""

import streamlit as st

from dhu_core.catalogue import CatalogueQuery
from dhu_core.i18n import _, format_percent
from dhu_core.ui import (
    auth,
    cached,
    catalogue_filters,
    catalogue_results,
    follow_up_view,
    practice_view,
)

params = {key: st.query_params.get_all(key) for key in st.query_params}

if "practice" in params:
    practice_id = catalogue_filters.practice_id(params["practice"])
    practice = cached.public_practice(practice_id) if practice_id else None
    st.page_link(
        "app_pages/radar.py", label=_("Back to the catalogue"), icon=":material/arrow_back:"
    )
    if practice is None:
        st.warning(_("This practice does not exist or is not published."))
        st.stop()
    # A link to the page already open leaves the address bar as it was: write the practice in.
    st.query_params.from_dict({"practice": str(practice.id)})
    practice_view.detail_page(practice, auth.current_user())
    follow_up_view.practice_cases(practice.id)
    st.subheader(_("Similar practices"))
    similar = cached.similar_to_practice(practice.id)
    for other_id, title, score in similar:
        practice_view.link(
            other_id,
            title,
            note=" · " + _("{share} similar").format(share=format_percent(round(score, 2))),
        )
    if not similar:
        st.caption(_("No similar practice found."))
    st.stop()

st.title("RADAR")
st.markdown(
    _(
        "Digital health practices registered by their owners across Europe: policies, "
        "strategies, apps, services, assessment frameworks and models, at every maturity level."
    )
)
query = catalogue_filters.current_query(CatalogueQuery.from_params(params))
result = cached.search(query)
query = catalogue_filters.shown_page(query, result.page)
st.query_params.from_dict(query.to_params())
catalogue_filters.search_box()
facet_column, result_column = st.columns([1, 3], gap="large")
with facet_column:
    catalogue_filters.facets(query, result.facets)
with result_column:
    catalogue_results.results(query, result)
