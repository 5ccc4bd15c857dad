"""The presenter view of a workshop: full screen, on one screen of 1400 x 900 px or more.

The sidebar, the header and the demo banner make way (the footer says when the data are demo
data); the map has its legend; the capture address breaks only after "/" or ".".
"""

import html
import re

import streamlit as st

from dhu_core import geo, live, maps
from dhu_core.text import md_escape
from dhu_core.ui import cached, shell, uptake_view

NEWEST = 5
#: The map's height: with it the view fits a screen of 1400 x 900 px (and 1920 x 1080).
MAP_HEIGHT = 470
PRESENTER_STYLE = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"] { padding: 1rem 2rem 0; max-width: none; }
.dhu-capture-url { font-size: 1.05rem; font-weight: 600; line-height: 1.35;
  overflow-wrap: normal; word-break: normal; }
</style>"""


def presenter_layout() -> None:
    """Hide everything but the page itself: the view is for a projector."""
    st.html(PRESENTER_STYLE)


def capture_address(url: str) -> None:
    """The address under the QR code, breaking only after "/", ".", "?", "&" or "=" (<wbr>)."""
    parts = re.split(r"(?<=[/.?&=])", url)
    st.html(f"<p class='dhu-capture-url'>{'<wbr>'.join(html.escape(p) for p in parts)}</p>")


def board(url: str, every: int) -> None:
    """Figures, map with legend, the newest practices and the QR code of the capture form."""
    figures = cached.headline_figures()
    columns = st.columns(5)
    columns[0].metric("Published practices", f"{figures.published_practices:,}", border=True)
    columns[1].metric("Countries covered", f"{figures.countries_covered:,}", border=True)
    columns[2].metric("Organisations", f"{figures.organisations:,}", border=True)
    columns[3].metric("Twinnings", f"{figures.twinnings:,}", border=True)
    columns[4].metric("Captures in the last hour", f"{cached.captures_last_hour():,}", border=True)
    map_column, ticker, join = st.columns([5, 3, 2])
    with map_column:
        countries = cached.uptake_by_country()
        st.pydeck_chart(
            maps.uptake_map(countries, "deployed"),
            height=MAP_HEIGHT,
            alt="Map of Europe: published practices deployed per country",
        )
        uptake_view.map_legend(maps.legend(countries, "deployed"), "Practices deployed")
    with ticker:
        st.subheader("Newest practices", anchor=False)
        for practice in cached.newest_practices(limit=NEWEST):
            published = f"{practice.published_at:%d %b %Y, %H:%M}" if practice.published_at else ""
            st.markdown(
                f"**{md_escape(practice.title)}**  \n"
                f"{md_escape(practice.owner_organisation)}, "
                f"{geo.country_name(practice.owner_country)} · {published}"
            )
    with join:
        st.image(
            live.qr_png(url),
            caption="Scan to register your practice",
            alt=f"QR code of the address of the quick-capture form: {url}",
            width="stretch",
        )
        capture_address(url)
        demo = " Demo data: generated, not real projects." if cached.is_demo() else ""
        st.caption(f"This view refreshes every {every} s.{demo}")


def live_board(url: str, every: int) -> None:
    """The board, redrawn every `every` seconds without rerunning the page."""
    st.fragment(run_every=every)(shell.guarded(board))(url, every)
