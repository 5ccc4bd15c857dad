"""The catalogue's search box, facet filters with counts, and pager, synced with the URL."""

import dataclasses

import streamlit as st

from dhu_core import geo, taxonomy
from dhu_core.catalogue import SORTS, CatalogueQuery

SORT_LABELS = {
    "relevance": "Best match",
    "newest": "Newest",
    "oldest": "Oldest",
    "title": "Title A–Z",
    "maturity": "Most mature",
}
TRANSFERABLE = {None: "any", True: "yes", False: "no"}
#: Facet -> (query attribute, code list of the options).
FACETS = {
    "type": ("practice_types", taxonomy.PRACTICE_TYPES),
    "maturity": ("maturities", taxonomy.MATURITY_LEVELS),
    "country": ("countries", None),
    "domain": ("health_domains", taxonomy.HEALTH_DOMAINS),
    "dhi": ("dhi_codes", None),
    "standard": ("standards", taxonomy.STANDARDS),
    "language": ("languages", taxonomy.LANGUAGES),
}
FACET_TITLES = {
    "type": "Type",
    "maturity": "Maturity",
    "country": "Country of deployment",
    "domain": "Health domain",
    "dhi": "WHO intervention group",
    "standard": "Standard",
    "language": "Language",
}


def practice_id(values: list[str]) -> int | None:
    """The practice id of `?practice=…`, or None when it is not a number."""
    try:
        return int(values[-1])
    except (ValueError, IndexError):
        return None


def _options(facet: str) -> dict:
    if facet == "country":
        return geo.country_names()
    if facet == "dhi":
        return {code: f"{code} {label}" for code, label in taxonomy.DHI_GROUPS.labels.items()} | {
            code: f"{code} {label}" for code, label in taxonomy.DHI_CODES.labels.items()
        }
    return FACETS[facet][1].labels


def current_query(initial: CatalogueQuery) -> CatalogueQuery:
    """The query the widgets hold (filled from the URL's `initial` when the page opens)."""
    state = st.session_state
    if "radar_text" not in state:
        state.update(
            radar_text=initial.text,
            radar_sort=initial.sort,
            radar_transferable=initial.transferable,
            radar_page=initial.page,
            _radar_filters=dataclasses.replace(initial, page=1),
        )
        for facet, (attribute, _) in FACETS.items():
            state[f"radar_{facet}"] = list(getattr(initial, attribute))
    query = CatalogueQuery(
        text=state.radar_text.strip(),
        sort=state.radar_sort,
        transferable=state.radar_transferable,
        page_size=initial.page_size,
        **{attribute: tuple(state[f"radar_{facet}"]) for facet, (attribute, _) in FACETS.items()},
    )
    if state["_radar_filters"] != query:  # other filters start again at page 1
        state["_radar_filters"] = query
        state["radar_page"] = 1
    return dataclasses.replace(query, page=state["radar_page"])


def draw(query: CatalogueQuery, facets: dict[str, dict[str, int]]) -> None:
    """Search box, sort and facet filters, each option with its number of practices."""
    text_column, sort_column = st.columns([3, 1])
    text_column.text_input(
        "Search", key="radar_text", placeholder="Words from the title, summary or organisation…"
    )
    sort_column.selectbox("Sort by", options=SORTS, format_func=SORT_LABELS.get, key="radar_sort")
    with st.expander("Filters", expanded=_any_filter(query), icon=":material/filter_list:"):
        columns = st.columns(4)
        for index, facet in enumerate(FACETS):
            options = _options(facet)
            counts = facets.get(facet, {})
            columns[index % 4].multiselect(
                FACET_TITLES[facet],
                options=list(options),
                format_func=lambda code, o=options, c=counts: _with_count(o, c, code),
                key=f"radar_{facet}",
            )
        columns[len(FACETS) % 4].radio(
            "Willing to transfer",
            options=list(TRANSFERABLE),
            format_func=TRANSFERABLE.get,
            horizontal=True,
            key="radar_transferable",
        )


def pager(query: CatalogueQuery, pages: int) -> None:
    """Previous / next page buttons."""
    previous, _, following = st.columns([1, 4, 1])
    if previous.button("Previous", disabled=query.page <= 1, icon=":material/chevron_left:"):
        st.session_state["radar_page"] = query.page - 1
        st.rerun()
    if following.button("Next", disabled=query.page >= pages, icon=":material/chevron_right:"):
        st.session_state["radar_page"] = query.page + 1
        st.rerun()


def _any_filter(query: CatalogueQuery) -> bool:
    return query.transferable is not None or any(
        getattr(query, attribute) for attribute, _ in FACETS.values()
    )


def _with_count(options: dict, counts: dict, code) -> str:
    count = counts.get(str(code))
    return (
        f"{options.get(code, code)} ({count:,})" if count is not None else options.get(code, code)
    )
