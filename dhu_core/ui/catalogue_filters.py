"""The catalogue's search box, facets with their counts, and pager, synced with the URL."""

import dataclasses
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from dhu_core import freshness, geo, taxonomy
from dhu_core.catalogue import SORTS, CatalogueQuery
from dhu_core.i18n import N_, _, format_number
from dhu_core.text import md_escape

SORT_LABELS = {
    "relevance": N_("Best match"),
    "newest": N_("Newest"),
    "oldest": N_("Oldest"),
    "title": N_("Title A–Z"),
    "maturity": N_("Most mature"),
}
#: Willing to transfer: the facet's values, as they appear in the facet counts too.
TRANSFERABLE = {True: "yes", False: "no"}
TRANSFERABLE_LABELS = {True: N_("yes"), False: N_("no")}
#: Freshness: the facet's values and their labels (the period is a setting).
FRESHNESS = {
    "current": N_("Confirmed in the last {months} months"),
    "outdated": N_("May be outdated"),
}
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
    "type": N_("Type"),
    "maturity": N_("Maturity"),
    "country": N_("Country of deployment"),
    "domain": N_("Health domain"),
    "dhi": N_("WHO intervention group"),
    "standard": N_("Standard"),
    "language": N_("Language"),
    "transferable": N_("Willing to transfer"),
    "freshness": N_("Freshness"),
}
#: A facet lists its most frequent values up to this many until the visitor asks for all:
#: the whole list of countries or languages would make a phone's page several screens long.
SHORT_LIST = 6
#: Wrapping facet labels, folding the facets on a phone, the results' heading below the bar.
STYLE = (Path(__file__).parent / "assets" / "catalogue.css").read_text(encoding="utf-8")


def practice_id(values: list[str]) -> int | None:
    """The practice id of `?practice=…`, or None when it is not a number."""
    try:
        return int(values[-1])
    except (ValueError, IndexError):
        return None


def current_query(initial: CatalogueQuery) -> CatalogueQuery:
    """The query the widgets hold (filled from the URL's `initial` when the page opens)."""
    state = st.session_state
    if "radar_text" not in state:
        state.update(
            radar_text=initial.text,
            radar_sort=initial.sort,
            radar_transferable=initial.transferable,
            radar_freshness=initial.freshness,
            radar_page=initial.page,
            _radar_filters=dataclasses.replace(initial, page=1),
        )
        for facet, (attribute, _code_list) in FACETS.items():
            state[f"radar_{facet}"] = list(getattr(initial, attribute))
    query = CatalogueQuery(
        text=state.radar_text.strip(),
        sort=state.radar_sort,
        transferable=state.radar_transferable,
        freshness=state.radar_freshness,
        page_size=initial.page_size,
        # A facet without values to list is not drawn, and Streamlit then forgets its key.
        **{
            attribute: tuple(state.get(f"radar_{facet}", []))
            for facet, (attribute, _code_list) in FACETS.items()
        },
    )
    if state["_radar_filters"] != query:  # other filters start again at page 1
        state["_radar_filters"] = query
        state["radar_page"] = 1
    return dataclasses.replace(query, page=state["radar_page"])


def shown_page(query: CatalogueQuery, page: int) -> CatalogueQuery:
    """The query of the page actually shown (the last one when the URL asked for more)."""
    st.session_state["radar_page"] = page
    return dataclasses.replace(query, page=page)


def search_box() -> None:
    """The search words and the sort order."""
    st.html(f"<style>{STYLE}</style>")
    text_column, sort_column = st.columns([3, 1])
    text_column.text_input(
        _("Search"),
        key="radar_text",
        placeholder=_("Words from the title, summary, organisation, country, standard…"),
    )
    sort_column.selectbox(
        _("Sort by"), options=SORTS, format_func=lambda sort: _(SORT_LABELS[sort]), key="radar_sort"
    )


def facets(query: CatalogueQuery, counts: dict[str, dict[str, int]]) -> None:
    """Every facet's values with their number of practices; choosing one narrows the results.

    On a phone the facets fold away behind a switch (the stylesheet hides the folded panel on
    narrow screens only); a wide screen always shows them.
    """
    chosen = len(active_filters(query))
    with st.container(key="radar_filter_switch"):
        st.toggle(
            _("Show filters ({count} chosen)").format(count=chosen)
            if chosen
            else _("Show filters"),
            key="radar_show",
        )
    folded = not st.session_state.get("radar_show")
    with st.container(key="radar_facets_folded" if folded else "radar_facets_open"):
        for facet in FACETS:
            _facet(facet, query, counts.get(facet, {}))
        yes_no = counts.get("transferable", {})
        st.pills(
            _(FACET_TITLES["transferable"]),
            options=list(TRANSFERABLE),
            format_func=lambda value: _counted(
                _(TRANSFERABLE_LABELS[value]), yes_no.get(TRANSFERABLE[value])
            ),
            key="radar_transferable",
        )
        fresh = counts.get("freshness", {})
        st.pills(
            _(FACET_TITLES["freshness"]),
            options=list(FRESHNESS),
            format_func=lambda value: _counted(freshness_label(value), fresh.get(value)),
            key="radar_freshness",
        )


def _facet(facet: str, query: CatalogueQuery, counts: dict[str, int]) -> None:
    """One facet as pills: its most frequent values (all of them on request) and the chosen."""
    labels = _options(facet)
    parse = int if facet == "maturity" else str
    chosen = list(getattr(query, FACETS[facet][0]))
    frequent = [parse(value) for value in counts if parse(value) in labels]
    show_all = st.session_state.get(f"radar_all_{facet}", False)
    listed = frequent if show_all else frequent[:SHORT_LIST]
    options = listed + [value for value in chosen if value not in listed]
    if not options:
        return
    st.pills(
        _(FACET_TITLES[facet]),
        options=options,
        selection_mode="multi",
        format_func=lambda value: _counted(labels.get(value, str(value)), counts.get(str(value))),
        key=f"radar_{facet}",
    )
    if len(frequent) > SHORT_LIST:
        st.button(
            _("Show fewer") if show_all else _("Show all {count}").format(count=len(frequent)),
            key=f"radar_more_{facet}",
            type="tertiary",
            on_click=_flip,
            args=(f"radar_all_{facet}",),
        )


def _options(facet: str) -> dict:
    if facet == "country":
        return geo.shown_country_names()
    if facet == "dhi":
        labels = taxonomy.DHI_GROUPS.shown_labels() | taxonomy.DHI_CODES.shown_labels()
        return {code: f"{code} {label}" for code, label in labels.items()}
    return FACETS[facet][1].shown_labels()


def freshness_label(value: str) -> str:
    """The label of a value of the freshness facet."""
    return _(FRESHNESS[value]).format(months=freshness.Periods.configured().reminder_months)


def _counted(label: str, count: int | None) -> str:
    return f"{label} ({format_number(count)})" if count is not None else label


def _flip(key: str) -> None:
    st.session_state[key] = not st.session_state.get(key, False)


def pager(query: CatalogueQuery, pages: int) -> None:
    """Previous / next page buttons; the new page opens at the top of the results."""
    previous, _middle, following = st.columns([1, 4, 1])
    previous.button(
        _("Previous"),
        disabled=query.page <= 1,
        icon=":material/chevron_left:",
        on_click=_turn,
        args=(query.page - 1,),
    )
    following.button(
        _("Next"),
        disabled=query.page >= pages,
        icon=":material/chevron_right:",
        on_click=_turn,
        args=(query.page + 1,),
    )


def _turn(page: int) -> None:
    st.session_state["radar_page"] = page
    st.session_state["_radar_turned"] = True


def page_turned() -> bool:
    """True once after Previous or Next was pressed."""
    return st.session_state.pop("_radar_turned", False)


def clear_buttons(query: CatalogueQuery) -> None:
    """A button per search word and chosen filter that takes it away, and one for them all."""
    removals = active_filters(query)
    if query.text:
        removals.insert(0, (_("Search: {words}").format(words=query.text), _clear_text))
    columns = st.columns(2)
    for index, (label, remove) in enumerate(removals):
        columns[index % 2].button(
            md_escape(label),
            key=f"radar_clear_{index}",
            icon=":material/close:",
            on_click=remove,
            width="stretch",
        )
    if len(removals) > 1:
        st.button(_("Clear the search and all filters"), on_click=_clear_all)


def active_filters(query: CatalogueQuery) -> list[tuple[str, Callable[[], None]]]:
    """(label, how to remove it) of every chosen filter value."""
    active = []
    for facet, (attribute, _code_list) in FACETS.items():
        labels = _options(facet)
        for value in getattr(query, attribute):
            label = f"{_(FACET_TITLES[facet])}: {labels.get(value, value)}"
            active.append((label, lambda f=facet, v=value: _remove(f, v)))
    if query.transferable is not None:
        label = f"{_(FACET_TITLES['transferable'])}: {_(TRANSFERABLE_LABELS[query.transferable])}"
        active.append((label, lambda: st.session_state.update(radar_transferable=None)))
    if query.freshness is not None:
        label = f"{_(FACET_TITLES['freshness'])}: {freshness_label(query.freshness)}"
        active.append((label, lambda: st.session_state.update(radar_freshness=None)))
    return active


def _remove(facet: str, value) -> None:
    key = f"radar_{facet}"
    st.session_state[key] = [chosen for chosen in st.session_state[key] if chosen != value]


def _clear_text() -> None:
    st.session_state["radar_text"] = ""


def _clear_all() -> None:
    st.session_state.update(radar_text="", radar_transferable=None, radar_freshness=None)
    for facet in FACETS:
        st.session_state[f"radar_{facet}"] = []
