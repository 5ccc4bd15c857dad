"""Live: the presenter view for a workshop's big screen, refreshed every few seconds (?every=N)."""

import streamlit as st

from dhu_core import geo, live, maps
from dhu_core.text import md_escape
from dhu_core.ui import cached, shell

every = live.refresh_seconds(st.query_params.get("every"))
url = live.capture_url()
st.title("Digital Health Uptake · live")


@st.fragment(run_every=every)
@shell.guarded
def live_board() -> None:
    """Figures, map, the newest practices and the QR code, redrawn on every refresh."""
    figures = cached.headline_figures()
    columns = st.columns(5)
    columns[0].metric("Published practices", f"{figures.published_practices:,}", border=True)
    columns[1].metric("Countries covered", f"{figures.countries_covered:,}", border=True)
    columns[2].metric("Organisations", f"{figures.organisations:,}", border=True)
    columns[3].metric("Twinnings", f"{figures.twinnings:,}", border=True)
    columns[4].metric("Captures in the last hour", f"{cached.captures_last_hour():,}", border=True)
    map_column, ticker, join = st.columns([5, 3, 2])
    with map_column:
        st.pydeck_chart(maps.uptake_map(cached.uptake_by_country(), "deployed"), height=560)
    with ticker:
        st.subheader("Newest practices", anchor=False)
        for practice in cached.newest_practices(limit=6):
            published = f"{practice.published_at:%d %b %H:%M}" if practice.published_at else ""
            st.markdown(
                f"**{md_escape(practice.title)}**  \n"
                f"{md_escape(practice.owner_organisation)}, "
                f"{geo.country_name(practice.owner_country)} · {published}"
            )
    with join:
        st.image(live.qr_png(url), caption="Scan to register your practice", width="stretch")
        st.markdown(f"**{md_escape(url)}**")
        st.caption(f"This view refreshes every {every} s.")


live_board()
