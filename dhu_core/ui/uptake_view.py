"""The parts of the uptake map page: its state from the URL, the map, a country's panel, the
charts and their downloads. Also the map's legend and figures, which the live view shows too."""

import html

import pandas as pd
import streamlit as st

from dhu_core import chart_alternatives as alternatives
from dhu_core import charts, geo, maps, spreadsheet, taxonomy, uptake
from dhu_core.chart_alternatives import ChartText
from dhu_core.i18n import N_, _, format_number
from dhu_core.text import lower_first, md_escape
from dhu_core.ui import cached, chart_view

#: Filter widgets: URL parameter (also the widget key's end) -> (label, its code list, whether
#: an option shows its code before its label).
FILTERS = {
    "type": (N_("Type of practice"), taxonomy.PRACTICE_TYPES, False),
    "maturity": (N_("Maturity"), taxonomy.MATURITY_LEVELS, True),
    "domain": (N_("Health domain"), taxonomy.HEALTH_DOMAINS, False),
    "dhi": (N_("WHO intervention group"), taxonomy.DHI_GROUPS, True),
    "standard": (N_("Standard"), taxonomy.STANDARDS, False),
}
#: Containers whose key starts with this show st.metric labels whole, on several lines if need
#: be (Streamlit cuts them with "…" to one line).
FIGURES = "figures"
_LABEL = (
    f'[class*="st-key-{FIGURES}"] [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"]'
)
_WRAPPING_FIGURES = f"""<style>
{_LABEL}, {_LABEL} * {{ white-space: normal; overflow: visible; text-overflow: clip; }}
</style>"""
_LEGEND_STYLE = """<style>
.dhu-legend { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.9rem;
  font-size: 0.875rem; line-height: 1.4; }
.dhu-legend-title { font-weight: 600; flex-basis: 100%; }
.dhu-legend-item { display: inline-flex; align-items: center; gap: 0.35rem; white-space: nowrap; }
.dhu-swatch { display: inline-block; width: 1.1rem; height: 1.1rem; border-radius: 2px;
  box-shadow: inset 0 0 0 1px rgba(19, 41, 61, 0.35); }
</style>"""
state = st.session_state


def open_from_url(span: tuple[int, int]) -> None:
    """When the page opens, its widgets start from the URL; the years stay inside `span`."""
    if "map_metric" not in state:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        opened = uptake.UptakeView.from_params(params)
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
    first, last = state.map_years
    state.map_years = uptake.year_span(uptake.UptakeFilters(first_year=first, last_year=last), span)


def filters(span: tuple[int, int]) -> uptake.UptakeFilters:
    """The filter widgets, in a panel; the filters they set."""
    with st.expander(_("Filters"), icon=":material/filter_list:"):
        columns = st.columns(3)
        for index, (name, (label, code_list, coded)) in enumerate(FILTERS.items()):
            options = {
                code: f"{code} {shown}" if coded else shown
                for code, shown in code_list.shown_labels().items()
            }
            columns[index % 3].multiselect(
                _(label), options=list(options), format_func=options.get, key=f"map_{name}"
            )
        columns[len(FILTERS) % 3].slider(
            _("Year of registration"),
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
    return uptake.with_years(chosen, state.map_years, span)


def metric_choice() -> str:
    """Which figure the map shows."""
    # A click on the map while the page is still being drawn can rerun it with no value for
    # this control from the browser: the metric shown last then stands.
    if state.get("map_metric") not in uptake.METRICS:
        state.map_metric = state.get("map_metric_shown", uptake.DEFAULT_METRIC)
    state.map_metric_shown = st.segmented_control(
        _("Show on the map"),
        options=list(uptake.METRICS),
        format_func=lambda code: _(uptake.METRICS[code].label),
        required=True,
        key="map_metric",
    )
    return state.map_metric_shown


def _deck_key() -> str:
    return f"map-deck-{state.map_deck}"


def _on_map_click() -> None:
    state.map_country = maps.clicked_country(state[_deck_key()].selection)


def _on_country_chosen() -> None:
    # A new deck forgets the country clicked before, which the map would keep highlighted.
    state.map_deck += 1


def uptake_map(data: uptake.Uptake, metric: str) -> None:
    """The map of `metric`, clickable, with its legend, explanation and download."""
    spec = uptake.METRICS[metric]
    st.pydeck_chart(
        maps.uptake_map(
            data.countries, metric, twinnings=data.twinnings, selected=state.map_country
        ),
        on_select=_on_map_click,
        selection_mode="single-object",
        key=_deck_key(),
        height=600,
        alt=_("Map of Europe: {figure} per country").format(figure=lower_first(_(spec.label))),
    )
    map_legend(maps.legend(data.countries, metric), _(spec.label))
    st.caption(
        _(spec.description)
        + " "
        + _(
            "Grey: no data (outside the platform's 42 countries). Arcs: twinnings, from the "
            "originator's country (orange) to the adopter's (crimson)."
        )
    )
    with st.expander(_("The map's figures as a table"), icon=":material/table:"):
        figures_table(data.countries)
    arcs = maps.twinning_table(data.twinnings)
    if len(arcs):
        st.caption(
            _(
                "A completed twinning's arc is twice as wide as one under way; every twinning "
                "drawn is listed, with its direction and state, under “The map's twinnings”."
            )
        )
        with st.expander(_("The map's twinnings"), icon=":material/table:"):
            st.table(arcs.set_index(arcs.columns[0]))
    download(data.countries, "uptake-by-country")


def figures_table(countries: pd.DataFrame) -> None:
    """Every figure of the map per country, as a table a screen reader can read (the map's
    equivalent for those who cannot see it); it scrolls sideways by keyboard on a phone."""
    header = "".join(
        f'<th scope="col">{html.escape(_(m.label))}</th>' for m in uptake.METRICS.values()
    )
    rows = "".join(
        f'<tr><th scope="row">{html.escape(row["name"])}</th>'
        + "".join(
            f"<td>{format_number(row[code], decimals=spec.decimals)}</td>"
            for code, spec in uptake.METRICS.items()
        )
        + "</tr>"
        for row in countries.sort_values("name").to_dict("records")
    )
    caption = html.escape(_("Figures per country, with the filters chosen above"))
    st.html(
        '<div class="dhu-rich-text dhu-figures"><table tabindex="0">'
        f"<caption>{caption}</caption>"
        f'<thead><tr><th scope="col">{html.escape(_("Country"))}</th>{header}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def map_legend(frame: pd.DataFrame, title: str) -> None:
    """The map's colour classes as labelled swatches, wrapping onto more lines when narrow."""
    name = _("Legend: {title}").format(title=title)
    items = "".join(
        f'<span class="dhu-legend-item" role="listitem">'
        f'<span class="dhu-swatch" style="background:{colour}"></span>{html.escape(label)}</span>'
        for label, colour in frame[["label", "colour"]].itertuples(index=False)
    )
    st.html(
        f"{_LEGEND_STYLE}<div class='dhu-legend' role='list' aria-label='{html.escape(name)}'>"
        f"<span class='dhu-legend-title'>{html.escape(title)}</span>{items}</div>"
    )


def wrapping_figures() -> None:
    """Let the st.metric labels in containers keyed FIGURES… wrap instead of being cut."""
    st.html(_WRAPPING_FIGURES)


def country_panel(data: uptake.Uptake, chosen: uptake.UptakeFilters) -> str | None:
    """The figures of the whole map and of the chosen country, with its practices; the country."""
    wrapping_figures()
    with st.container(key=f"{FIGURES}-map"):
        figures = st.columns(2)
        figures[0].metric(_("Practices"), format_number(int(data.profile["practices"].sum())))
        figures[1].metric(
            _("Countries with uptake"), format_number(int((data.countries["deployed"] > 0).sum()))
        )
        figures[0].metric(
            _("Deployments abroad"), format_number(int(data.flows["practices"].sum()))
        )
        figures[1].metric(_("Twinnings"), format_number(len(data.twinnings)))
    shown_names = geo.shown_country_names()
    country = st.selectbox(
        _("Country: click it on the map, or choose it here"),
        options=[code for code in shown_names if code in geo.countries()],
        format_func=geo.country_name,
        index=None,
        placeholder=_("Choose a country"),
        key="map_country",
        on_change=_on_country_chosen,
    )
    if country:
        _country(data, chosen, country)
    return country


def _country(data: uptake.Uptake, chosen: uptake.UptakeFilters, country: str) -> None:
    row = data.countries.set_index("country").loc[country]
    detail = cached.country_detail(chosen, country)
    st.subheader(row["name"], anchor=False)
    with st.container(key=f"{FIGURES}-country"):
        cells = st.columns(2)
        for index, (code, spec) in enumerate(uptake.METRICS.items()):
            value = format_number(row[code], decimals=spec.decimals)
            cells[index % 2].metric(_(spec.label), value, help=_(spec.description))
    types, levels = uptake.by_type(detail.profile), uptake.by_maturity(detail.profile)
    chart(
        charts.practices_by_type(types, title=_("By type")),
        types,
        f"{country}-by-type",
        alternatives.practices_by_type(types),
    )
    chart(
        charts.maturity_distribution(levels, title=_("By maturity")),
        levels,
        f"{country}-by-maturity",
        alternatives.maturity_distribution(levels),
    )
    shown = detail.practices
    st.markdown(_("**Practices deployed in {country}**").format(country=row["name"]))
    with st.container(height=320):
        st.markdown(
            "\n".join(
                f"- [{md_escape(p.title)}](/radar?practice={p.practice_id}) · "
                f"{taxonomy.PRACTICE_TYPES.label(p.practice_type)} · "
                f"{taxonomy.MATURITY_LEVELS.label(p.maturity)} · "
                f"{md_escape(p.organisation)}, {geo.country_name(p.origin)}"
                for p in shown.itertuples()
            )
            or _("No practice matches the filters.")
        )
    link = (
        _("[Open these practices all {count} in RADAR]({url})")
        if row["deployed"] > len(shown)
        else _("[Open these practices in RADAR]({url})")
    )
    st.markdown(
        link.format(count=format_number(row["deployed"]), url=uptake.radar_url(chosen, country))
    )
    download(shown, f"{country}-practices")


def practice_charts(data: uptake.Uptake) -> None:
    """The practices counted, by type, maturity, year, domain, and across borders."""
    types, levels, years = (
        uptake.by_type(data.profile),
        uptake.by_maturity(data.profile),
        uptake.by_year(data.profile),
    )
    left, right = st.columns(2, gap="large")
    with left:
        chart(
            charts.practices_by_type(types), types, "by-type", alternatives.practices_by_type(types)
        )
    with right:
        chart(
            charts.maturity_distribution(levels),
            levels,
            "by-maturity",
            alternatives.maturity_distribution(levels),
        )
    left, right = st.columns(2, gap="large")
    with left:
        chart(
            charts.registrations_over_time(years),
            years,
            "registrations",
            alternatives.registrations_over_time(years),
        )
    with right:
        chart(
            charts.cross_border_flows(data.flows),
            data.flows,
            "cross-border-flows",
            alternatives.cross_border_flows(data.flows),
        )
    chart(
        charts.domains_by_type(data.domains),
        data.domains,
        "domains-by-type",
        alternatives.domains_by_type(data.domains),
    )


def indicator_comparison(countries: pd.DataFrame, metric: str) -> str:
    """The map's metric beside a public indicator chosen here; the indicator."""
    indicator = st.selectbox(
        _("Public indicator"),
        options=list(uptake.INDICATORS),
        format_func=lambda code: _(uptake.INDICATORS[code]),
        key="map_indicator",
    )
    compared = uptake.indicator_comparison(countries, metric, indicator)
    chart(
        charts.indicator_comparison(compared),
        compared.frame,
        "indicator-comparison",
        alternatives.indicator_comparison(compared),
    )
    source = _(
        "Source: {source}, {year}, the latest year, for every country; percent of individuals "
        "aged 16 to 74."
    ).format(source=uptake.INDICATOR_SOURCE, year=compared.year)
    left_out = (
        [
            _("No {year} value for {countries}, so they are left out.").format(
                year=compared.year, countries=", ".join(compared.missing)
            )
        ]
        if compared.missing
        else []
    )
    shown = _(
        "A country's code is shown where it fits; every point names its country when pointed at."
    )
    st.caption(" ".join([source, *left_out, shown]))
    return indicator


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


def chart(figure: charts.Spec, frame: pd.DataFrame, name: str, text: ChartText) -> None:
    """A chart, as wide as its column, with its text alternative and the download of its data
    under it."""
    st.vega_lite_chart(spec=charts.in_language(figure), width="stretch")
    chart_view.alternative(text)
    download(frame, name)
