"""The presenter view of a workshop: full screen, on one screen of 1400 x 900 px or more.

The sidebar, the header and the demo banner make way (the footer says when the data are demo
data); the map has its legend; the capture address breaks only after "/" or ".".
"""

import html
import re

import streamlit as st

from dhu_core import geo, i18n, live, maps
from dhu_core.i18n import _, format_date, format_number
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
    for column, (label, value) in zip(
        columns,
        (
            (_("Published practices"), figures.published_practices),
            (_("Countries covered"), figures.countries_covered),
            (_("Organisations"), figures.organisations),
            (_("Twinnings"), figures.twinnings),
            (_("Captures in the last hour"), cached.captures_last_hour()),
        ),
        strict=True,
    ):
        column.metric(label, format_number(value), border=True)
    map_column, ticker, join = st.columns([5, 3, 2])
    with map_column:
        countries = cached.uptake_by_country()
        st.pydeck_chart(
            maps.uptake_map(countries, "deployed"),
            height=MAP_HEIGHT,
            alt=_("Map of Europe: published practices deployed per country"),
        )
        uptake_view.map_legend(maps.legend(countries, "deployed"), _("Practices deployed"))
    with ticker:
        st.subheader(_("Newest practices"), anchor=False)
        for practice in cached.newest_practices(limit=NEWEST):
            at = practice.published_at
            published = f"{format_date(at)}, {at:%H:%M}" if at else ""
            st.markdown(
                f"**{md_escape(practice.title)}**  \n"
                f"{md_escape(practice.owner_organisation)}, "
                f"{geo.country_name(practice.owner_country)} · {published}"
            )
    with join:
        st.image(
            live.qr_png(url),
            caption=_("Scan to register your practice"),
            alt=_("QR code of the address of the quick-capture form: {url}").format(url=url),
            width="stretch",
        )
        capture_address(url)
        refresh = _("This view refreshes every {seconds} s.").format(seconds=every)
        demo = _("Demo data: generated, not real projects.") if cached.is_demo() else ""
        st.caption(f"{refresh} {demo}".strip())


def live_board(url: str, every: int) -> None:
    """The board, redrawn every `every` seconds without rerunning the page, in the language
    of the page (a fragment's rerun runs the board alone)."""
    language = i18n.current()

    def in_language(url: str, every: int) -> None:
        with i18n.language(language):
            board(url, every)

    st.fragment(run_every=every)(shell.guarded(in_language))(url, every)
