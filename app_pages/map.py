"""Uptake map: where practices are taken up across Europe, and how countries compare."""

import altair as alt
import pandas as pd
import streamlit as st

from dhu_core import charts, geo, maps, spreadsheet, taxonomy, uptake
from dhu_core.text import md_escape
from dhu_core.ui import cached

#: Filter widgets: URL parameter (also the widget key's end) -> (label, options code -> label).
FILTERS = {
    "type": ("Type of practice", taxonomy.PRACTICE_TYPES.labels),
    "maturity": (
        "Maturity",
        {level: f"{level} {label}" for level, label in taxonomy.MATURITY_LEVELS.labels.items()},
    ),
    "domain": ("Health domain", taxonomy.HEALTH_DOMAINS.labels),
    "dhi": (
        "WHO intervention group",
        {code: f"{code} {label}" for code, label in taxonomy.DHI_GROUPS.labels.items()},
    ),
    "standard": ("Standard", taxonomy.STANDARDS.labels),
}
state = st.session_state


def download(frame: pd.DataFrame, name: str) -> None:
    """A button that downloads the table behind a chart as CSV."""
    st.download_button(
        "CSV",
        data=lambda: spreadsheet.frame_csv_bytes(frame),
        file_name=f"dhu-{name}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        type="tertiary",
        key=f"csv-{name}",
    )


def chart(figure: alt.Chart, frame: pd.DataFrame, name: str) -> None:
    """An Altair chart with the download of its data under it."""
    st.altair_chart(figure, width="stretch")
    download(frame, name)


def deck_key() -> str:
    return f"map-deck-{state.map_deck}"


def on_map_click() -> None:
    state.map_country = maps.clicked_country(state[deck_key()].selection)


def on_country_chosen() -> None:
    # A new deck forgets the country clicked before, which the map would keep highlighted.
    state.map_deck += 1


span = cached.registration_years()
if "map_metric" not in state:  # the page opens: its widgets start from the URL
    opened = uptake.UptakeView.from_params({k: st.query_params.get_all(k) for k in st.query_params})
    state.update(
        {
            f"map_{name}": list(getattr(opened.filters, attribute))
            for name, attribute in uptake.FILTER_ATTRIBUTES.items()
        }
    )
    state.update(
        map_years=uptake.year_span(opened.filters, span),
        map_metric=opened.metric,
        map_country=opened.country,
        map_indicator=opened.indicator,
    )
state.setdefault("map_deck", 0)
first, last = state.map_years  # kept inside the years registered so far
state.map_years = uptake.year_span(uptake.UptakeFilters(first_year=first, last_year=last), span)

st.title("Uptake map")
st.markdown(
    "Where digital health practices registered on the platform are deployed across Europe, "
    "where they come from, and how countries compare. Click a country for its practices."
)

with st.expander("Filters", icon=":material/filter_list:"):
    columns = st.columns(3)
    for index, (name, (label, options)) in enumerate(FILTERS.items()):
        columns[index % 3].multiselect(
            label, options=list(options), format_func=options.get, key=f"map_{name}"
        )
    columns[len(FILTERS) % 3].slider(
        "Year of registration",
        min_value=span[0],
        max_value=max(span[1], span[0] + 1),
        key="map_years",
    )
chosen = uptake.UptakeFilters(
    **{
        attribute: tuple(state[f"map_{name}"])
        for name, attribute in uptake.FILTER_ATTRIBUTES.items()
    }
)
filters = uptake.with_years(chosen, state.map_years, span)
data = cached.uptake_overview(filters)
if data.profile.empty:
    st.info("No published practice matches these filters.", icon=":material/filter_list_off:")

metric = st.segmented_control(
    "Show on the map",
    options=list(uptake.METRICS),
    format_func=lambda code: uptake.METRICS[code].label,
    required=True,
    key="map_metric",
)
map_column, panel = st.columns([2, 1], gap="large")
with map_column:
    st.pydeck_chart(
        maps.uptake_map(
            data.countries, metric, twinnings=data.twinnings, selected=state.map_country
        ),
        on_select=on_map_click,
        selection_mode="single-object",
        key=deck_key(),
        height=600,
        alt=f"Map of Europe: {uptake.METRICS[metric].label.lower()} per country",
    )
    st.altair_chart(
        charts.map_legend(maps.legend(data.countries, metric), uptake.METRICS[metric].label),
        width="stretch",
        height=90,
    )
    st.caption(
        f"{uptake.METRICS[metric].description} Grey: no data (outside the platform's 42 "
        "countries). Arcs: twinnings, from the originator's country (orange) to the adopter's "
        "(crimson)."
    )
    download(data.countries, "uptake-by-country")

with panel:
    figures = st.columns(2)
    figures[0].metric("Practices", f"{int(data.profile['practices'].sum()):,}")
    figures[1].metric("Countries with uptake", f"{int((data.countries['deployed'] > 0).sum()):,}")
    figures[0].metric("Deployments abroad", f"{int(data.flows['practices'].sum()):,}")
    figures[1].metric("Twinnings", f"{len(data.twinnings):,}")
    country = st.selectbox(
        "Country",
        options=list(geo.countries()),
        format_func=geo.country_name,
        index=None,
        placeholder="Click a country on the map, or choose it here",
        key="map_country",
        on_change=on_country_chosen,
    )
    if country:
        row = data.countries.set_index("country").loc[country]
        detail = cached.country_detail(filters, country)
        st.subheader(row["name"])
        cells = st.columns(2)
        for index, (code, spec) in enumerate(uptake.METRICS.items()):
            value = f"{row[code]:,.{spec.decimals}f}"
            cells[index % 2].metric(spec.label, value, help=spec.description)
        types, levels = uptake.by_type(detail.profile), uptake.by_maturity(detail.profile)
        chart(charts.practices_by_type(types, title="By type"), types, f"{country}-by-type")
        chart(
            charts.maturity_distribution(levels, title="By maturity"),
            levels,
            f"{country}-by-maturity",
        )
        shown = detail.practices
        st.markdown(f"**Practices deployed in {row['name']}**")
        with st.container(height=320):
            st.markdown(
                "\n".join(
                    f"- [{md_escape(p.title)}](/radar?practice={p.practice_id}) · "
                    f"{taxonomy.PRACTICE_TYPES.label(p.practice_type)} · "
                    f"{taxonomy.MATURITY_LEVELS.label(p.maturity)} · "
                    f"{md_escape(p.organisation)}, {geo.country_name(p.origin)}"
                    for p in shown.itertuples()
                )
                or "No practice matches the filters."
            )
        more = f"all {row['deployed']:,} in RADAR" if row["deployed"] > len(shown) else "in RADAR"
        st.markdown(f"[Open these practices {more}]({uptake.radar_url(filters, country)})")
        download(shown, f"{country}-practices")

st.divider()
types, levels, years = (
    uptake.by_type(data.profile),
    uptake.by_maturity(data.profile),
    uptake.by_year(data.profile),
)
left, right = st.columns(2, gap="large")
with left:
    chart(charts.practices_by_type(types), types, "by-type")
with right:
    chart(charts.maturity_distribution(levels), levels, "by-maturity")
left, right = st.columns(2, gap="large")
with left:
    chart(charts.registrations_over_time(years), years, "registrations")
with right:
    chart(charts.domains_by_type(data.domains), data.domains, "domains-by-type")
chart(charts.cross_border_flows(data.flows), data.flows, "cross-border-flows")

indicator = st.selectbox(
    "Public indicator",
    options=list(uptake.INDICATORS),
    format_func=uptake.INDICATORS.get,
    key="map_indicator",
)
compared = uptake.indicator_comparison(data.countries, metric, indicator)
st.altair_chart(charts.indicator_comparison(compared, metric, indicator), width="stretch")
st.caption(
    f"Source: {uptake.INDICATOR_SOURCE}, the latest year per country; percent of individuals "
    "aged 16 to 74."
)
download(compared, "indicator-comparison")

view = uptake.UptakeView(filters=filters, metric=metric, country=country, indicator=indicator)
st.query_params.from_dict(view.to_params())
