"""RADAR: find digital health practices; filters live in the URL so a view can be shared."""

import streamlit as st

from dhu_core import catalogue, io, spreadsheet
from dhu_core.catalogue import CatalogueQuery
from dhu_core.ui import auth, cached, catalogue_filters, practice_view

params = {key: st.query_params.get_all(key) for key in st.query_params}

if "practice" in params:
    practice_id = catalogue_filters.practice_id(params["practice"])
    practice = cached.published_practice(practice_id) if practice_id else None
    st.page_link("app_pages/radar.py", label="Back to the catalogue", icon=":material/arrow_back:")
    if practice is None:
        st.warning("This practice does not exist or is not published.")
        st.stop()
    # A link to the page already open leaves the address bar as it was: write the practice in.
    st.query_params.from_dict({"practice": str(practice.id)})
    practice_view.detail_page(practice, auth.current_user())
    st.subheader("Similar practices")
    similar = cached.similar_to_practice(practice.id)
    for other_id, title, score in similar:
        practice_view.link(other_id, title, note=f" · {score:.0%} similar")
    if not similar:
        st.caption("No similar practice found.")
    st.stop()

st.title("RADAR")
st.markdown(
    "Digital health practices registered by their owners across Europe: policies, strategies, "
    "apps, services, assessment frameworks and models, at every maturity level."
)
query = catalogue_filters.current_query(CatalogueQuery.from_params(params))
result = cached.search(query)
catalogue_filters.draw(query, result.facets)
st.query_params.from_dict(query.to_params())

pages = max(1, -(-result.total // query.page_size))
noun = "practice" if result.total == 1 else "practices"
st.markdown(f"**{result.total:,} {noun}** · page {query.page} of {pages:,}")
for practice in result.practices:
    practice_view.card(practice)
catalogue_filters.pager(query, pages)

with st.expander("Download this result", icon=":material/download:"):
    st.caption("Exactly the practices matching the search and filters above.")
    columns = st.columns(3)
    for column, (fmt, mime) in zip(
        columns,
        (
            ("csv", "text/csv"),
            ("xlsx", spreadsheet.XLSX_MIME),
            ("json", "application/json"),
        ),
        strict=True,
    ):
        column.download_button(
            fmt.upper(),
            data=lambda fmt=fmt: io.export_bytes(
                io.export_practices(catalogue.matching_ids(query)), fmt
            ),
            file_name=f"dhu-practices.{fmt}",
            mime=mime,
            on_click="ignore",
            key=f"download-{fmt}",
        )
