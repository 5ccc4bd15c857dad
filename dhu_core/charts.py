"""Vega-Lite charts of the uptake figures: each takes the DataFrame of dhu_core.uptake it shows
and returns a Vega-Lite specification (a dict, with its rows under "data"), which
`st.vega_lite_chart` draws. The specifications are written as dicts rather than built with
Altair: importing Altair (and the JSON-schema validation it brings) holds about 23 MB more in
every app process, for nothing the charts need.

Every chart takes the width of its container and stays legible from a phone (390 px wide) to a
wide screen: categories run down the vertical axis, so that each label has a line of its own;
long labels and titles wrap instead of being cut; a band is high enough for its label and makes
each bar at least 12 px thick. Sequential colours go from pale (few) to dark (many) and start at
zero, so that zero is the quietest colour; the practice types use the Okabe-Ito palette, which
people with any common colour-vision deficiency can tell apart.
"""

import json
import math
import textwrap
from collections.abc import Iterable
from typing import Any

import pandas as pd

from dhu_core import i18n, taxonomy, uptake
from dhu_core.i18n import _, format_number
from dhu_core.text import lower_first

#: A Vega-Lite specification, or a part of one.
Spec = dict[str, Any]

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
PRIMARY = "#0B6E75"
#: ColorBrewer's yellow-green-blue, safe for colour-blind readers, from 0 (so 1 is tinted).
SEQUENTIAL = {"scheme": "yellowgreenblue", "domainMin": 0}
COUNT_LEGEND = {
    "tickMinStep": 1,
    "format": ",d",
    "orient": "bottom",
    "direction": "horizontal",
    "gradientLength": 140,
}


def in_language(chart: Spec) -> Spec:
    """`chart` with its numbers written as the page's language writes them (12.345,6 in German):
    Vega-Lite writes them the English way unless its configuration says otherwise."""
    return {**chart, "config": {**chart.get("config", {}), "locale": i18n.chart_locale()}}


def _type_labels() -> list[str]:
    """The practice types' labels in the page's language, in the list's order."""
    return list(taxonomy.PRACTICE_TYPES.shown_labels().values())


def _type_colours() -> Spec:
    labels = _type_labels()
    return {"domain": labels, "range": list(OKABE_ITO[: len(labels)])}


def _field(name: str, kind: str, **options: Any) -> Spec:
    """An encoding of the column `name`, of Vega-Lite type `kind` (quantitative, nominal…)."""
    return {"field": name, "type": kind, **options}


def _rows(frame: pd.DataFrame) -> Spec:
    """The chart's data: `frame`'s rows, as plain Python values."""
    return {"values": frame.to_dict("records")}


#: Characters per line of a chart's title (about 300 px of Streamlit's title font).
TITLE_WIDTH = 34
#: Characters per line of a category label, and the height of a band per line of its label.
LABEL_WIDTH = 24
LINE_HEIGHT = 13
#: Bars fill 90 % of a band (Vega-Lite's padding), so a band of 24 px makes bars of 21 px.
MIN_BAND = 24
#: The container's width for the plot, axes and legends (the height is the plot's own), with
#: room for the tops of the letters of the title and for upright axis titles.
FIT = {
    "width": "container",
    "autosize": {"type": "fit-x", "contains": "padding"},
    # An object: Streamlit sets the padding's "bottom" itself and fails on a number.
    "padding": {"top": 4, "right": 4, "bottom": 4, "left": 4},
}
#: Below this plot width (px), the heat map turns its column labels upright.
NARROW = 600


def _title(text: str, subtitle: str | None = None) -> Spec:
    """A chart title that wraps instead of being cut on a phone."""
    title = {"text": _lines(text, TITLE_WIDTH), "anchor": "start", "subtitlePadding": 4}
    if subtitle:
        title["subtitle"] = _lines(subtitle, TITLE_WIDTH + 10)
    return title


def _lines(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [text]


def _category_axis(labels: Iterable[str], *, width: int = LABEL_WIDTH) -> tuple[Spec, int]:
    """An axis that shows every one of `labels` whole, long ones on several lines, and the band
    height (px) that keeps the lines of neighbouring labels apart."""
    wrapped = {label: _lines(label, width) for label in labels}
    long = {label: lines for label, lines in wrapped.items() if len(lines) > 1}
    expression = f"{json.dumps(long)}[datum.label] || datum.label" if long else "datum.label"
    lines = max((len(lines) for lines in wrapped.values()), default=1)
    axis = {
        "labelExpr": expression,
        "labelLimit": 0,
        "labelOverlap": False,
        "labelFlush": False,
        "labelPadding": 6,
    }
    return axis, max(MIN_BAND, LINE_HEIGHT * lines + 8)


def _horizontal_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    labels: list[str],
    value: Spec,
    chart_title: Spec | None,
    tooltip: list[Spec],
) -> Spec:
    axis, band = _category_axis(labels)
    chart = {
        "data": _rows(frame),
        "mark": {"type": "bar", "color": PRIMARY, "cornerRadiusEnd": 3},
        "encoding": {
            "x": value,
            "y": _field(category, "nominal", title=None, sort=labels, axis=axis),
            "tooltip": tooltip,
        },
        **FIT,
        "height": {"step": band},
    }
    if chart_title is not None:
        chart["title"] = chart_title
    return chart


def _practices_axis() -> Spec:
    return _field(
        "practices", "quantitative", title=_("Practices"), axis={"tickMinStep": 1, "format": ",d"}
    )


def practices_by_type(frame: pd.DataFrame, *, title: str | None = None) -> Spec:
    """Horizontal bars: practices per type (from `uptake.by_type`)."""
    return _horizontal_bars(
        frame,
        category="type",
        labels=_type_labels(),
        value=_practices_axis(),
        chart_title=_title(title or _("Practices by type")),
        tooltip=[_field("type", "nominal", title=_("Type")), _practices_tooltip()],
    )


def maturity_distribution(frame: pd.DataFrame, *, title: str | None = None) -> Spec:
    """Horizontal bars per maturity level, concept to cross-border (from `uptake.by_maturity`)."""
    return _horizontal_bars(
        frame,
        category="level",
        labels=list(frame["level"]),
        value=_practices_axis(),
        chart_title=_title(title or _("Maturity of the practices")),
        tooltip=[_field("level", "nominal", title=_("Maturity")), _practices_tooltip()],
    )


def registrations_over_time(frame: pd.DataFrame) -> Spec:
    """Stacked bars: practices registered per year, by type (from `uptake.by_year`)."""
    return {
        "data": _rows(frame),
        "mark": {"type": "bar"},
        "encoding": {
            "x": _field(
                "year",
                "ordinal",
                title=_("Year of registration"),
                axis={"labelAngle": 0, "labelFlush": False},
            ),
            "y": {
                "aggregate": "sum",
                **_field("practices", "quantitative", title=_("Practices")),
                "axis": {"tickMinStep": 1},
            },
            "color": _field(
                "type",
                "nominal",
                title=_("Type"),
                scale=_type_colours(),
                # One column under the chart: the longest type still fits on a phone.
                legend={"orient": "bottom", "direction": "vertical", "labelLimit": 0},
            ),
            "order": _field("practice_type", "nominal"),
            "tooltip": [
                _field("year", "ordinal", title=_("Year")),
                _field("type", "nominal", title=_("Type")),
                _practices_tooltip(),
            ],
        },
        "title": _title(_("Registrations per year")),
        **FIT,
        "height": 220,
    }


def domains_by_type(frame: pd.DataFrame) -> Spec:
    """Heat map: practices per health domain and type (from `uptake.domains_by_type`)."""
    domains = [taxonomy.HEALTH_DOMAINS.label(code) for code in taxonomy.HEALTH_DOMAINS]
    shown = [label for label in domains if label in set(frame["domain"])]
    y_axis, band = _category_axis(shown, width=34)
    type_labels = _type_labels()
    types = _category_axis(type_labels, width=16)[0]
    # Wide: the types wrapped on lines across the top of their columns; narrow: upright.
    x_axis = {
        "orient": "top",
        "labelExpr": f"width < {NARROW} ? datum.label : ({types['labelExpr']})",
        "labelAngle": {"expr": f"width < {NARROW} ? -90 : 0"},
        "labelLimit": 0,
        "labelOverlap": False,
        "labelFlush": False,
    }
    position = {
        "x": _field("type", "nominal", title=None, sort=type_labels, axis=x_axis),
        "y": _field("domain", "nominal", title=None, sort=shown, axis=y_axis),
    }
    cells = {
        "mark": {"type": "rect", "stroke": "#FFFFFF", "strokeWidth": 1},
        "encoding": {
            **position,
            "color": _field(
                "practices",
                "quantitative",
                title=_("Practices"),
                scale=SEQUENTIAL,
                legend=COUNT_LEGEND,
            ),
            "tooltip": [
                _field("domain", "nominal", title=_("Health domain")),
                _field("type", "nominal", title=_("Type")),
                _practices_tooltip(),
            ],
        },
    }
    return {
        "data": _rows(frame),
        "layer": [cells, _cell_labels(position, frame)],
        "title": _title(_("Health domains by type of practice")),
        **FIT,
        "height": {"step": band},
    }


FLOWS_SHOWN = 15


def cross_border_flows(frame: pd.DataFrame) -> Spec:
    """Bars: the largest flows of practices deployed abroad, owner's country -> deployment."""
    largest = frame.head(FLOWS_SHOWN).assign(
        flow=lambda f: f["origin_name"] + " → " + f["country_name"]
    )
    subtitle = (
        _("The {shown} largest of {count} flows; the download has them all.").format(
            shown=len(largest), count=format_number(len(frame))
        )
        if len(frame) > len(largest)
        else None
    )
    return _horizontal_bars(
        largest,
        category="flow",
        labels=list(largest["flow"]),
        value=_field(
            "practices",
            "quantitative",
            title=_lines(_("Practices of the owner's country deployed in the other"), 30),
            axis={"tickMinStep": 1, "format": ",d"},
        ),
        chart_title=_title(_("Cross-border uptake: who adopts practices from whom"), subtitle),
        tooltip=[
            _field("origin_name", "nominal", title=_("From")),
            _field("country_name", "nominal", title=_("Deployed in")),
            _practices_tooltip(),
        ],
    )


#: Where a country's code may go beside its point: (name, align, baseline, dx, dy).
LABEL_PLACES = (
    ("right", "left", "middle", 7, 0),
    ("left", "right", "middle", -7, 0),
    ("above", "center", "bottom", 0, -7),
    ("below", "center", "top", 0, 7),
)
#: The plot area the labels are placed for: the narrowest one, on a phone. A label clear of
#: the others there stays clear on a wider screen, where points only move further apart.
SCATTER_PLOT = (240, 300)


def indicator_comparison(comparison: uptake.IndicatorComparison) -> Spec:
    """Scatter: a metric of the platform against a public indicator of one year, per country.

    Each point carries its country's code where it fits without covering another label or
    point; every point names its country and the indicator's year in its tooltip.
    """
    metric, indicator, year = comparison.metric, comparison.indicator, comparison.year
    label = _(uptake.METRICS[metric].label)
    public = _(uptake.INDICATORS[indicator])
    frame = comparison.frame
    top = _nice_ceiling(frame[metric].max() if len(frame) else 0)
    places = _label_places(frame[indicator], frame[metric], 100, top)
    how = {place: rest for place, *rest in LABEL_PLACES}
    frame = frame.assign(
        label_at=places,
        **{
            f"label_{name}": [how.get(place, LABEL_PLACES[0][1:])[index] for place in places]
            for index, name in enumerate(("align", "baseline", "dx", "dy"))
        },
    )
    x_title = _("{indicator}, {year} (% of individuals aged 16-74)").format(
        indicator=public, year=year
    )
    position = {
        "x": _field(
            indicator, "quantitative", title=_lines(x_title, 40), scale={"domain": [0, 100]}
        ),
        "y": _field(metric, "quantitative", title=_lines(label, 30), scale={"domain": [0, top]}),
    }
    points = {
        "mark": {"type": "circle", "size": 80, "color": PRIMARY, "opacity": 0.85},
        "encoding": {
            **position,
            "tooltip": [
                _field("name", "nominal", title=_("Country")),
                _field(metric, "quantitative", title=label, format=",.4~f"),
                _field(indicator, "quantitative", title=f"{public} (%)"),
                _field("year", "ordinal", title=_("Year of the indicator")),
            ],
        },
    }
    # One text layer, each code placed by its own row (a layer per place costs 4 times more).
    labels = {
        "transform": [{"filter": "(datum.label_at !== '')"}],
        "mark": {
            "type": "text",
            **{name: {"expr": f"datum.label_{name}"} for name in ("align", "baseline", "dx", "dy")},
            "fontSize": 11,
        },
        "encoding": {**position, "text": _field("country", "nominal")},
    }
    title = _("{figure} and people {indicator}").format(figure=label, indicator=lower_first(public))
    return {
        "data": _rows(frame),
        "layer": [points, labels],
        "title": _title(title),
        **FIT,
        "height": 320,
    }


def _nice_ceiling(value: float) -> float:
    """The axis end for `value`: 1, 2, 2.5 or 5 times a power of ten, not below it."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _label_places(xs: pd.Series, ys: pd.Series, x_end: float, y_end: float) -> list[str]:
    """For each point, the first place of LABEL_PLACES where a two-letter code covers neither a
    label placed before nor another point; "" when none is free."""
    width, height = SCATTER_PLOT
    text_w, text_h, radius = 16, 12, 6
    centres = [
        (x / x_end * width, height - y / y_end * height) for x, y in zip(xs, ys, strict=True)
    ]
    shift = {"left": 0, "right": 1, "center": 0.5, "top": 0, "bottom": 1, "middle": 0.5}
    taken: list[tuple[float, float, float, float]] = []
    places = []
    for index, (cx, cy) in enumerate(centres):
        points = [
            (px - radius, py - radius, px + radius, py + radius)
            for other, (px, py) in enumerate(centres)
            if other != index
        ]
        chosen = ""
        for place, align, baseline, dx, dy in LABEL_PLACES:
            left = cx + dx - shift[align] * text_w
            top = cy + dy - shift[baseline] * text_h
            box = (left, top, left + text_w, top + text_h)
            if not any(_overlaps(box, other) for other in taken + points):
                chosen = place
                taken.append(box)
                break
        places.append(chosen)
    return places


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _practices_tooltip() -> Spec:
    return _field("practices", "quantitative", title=_("practices"), format=",")


def _cell_labels(position: Spec, frame: pd.DataFrame) -> Spec:
    # Dark text on the light half of the palette, white on the dark half.
    middle = frame["practices"].max() / 2 if len(frame) else 0
    return {
        "mark": {"type": "text", "fontSize": 11},
        "encoding": {
            **position,
            "text": _field("practices", "quantitative", format=","),
            "color": {
                "condition": {"test": f"(datum.practices > {middle})", "value": "#FFFFFF"},
                "value": "#13293D",
            },
        },
    }


def score_breakdown(rows: list[dict]) -> Spec:
    """A twinning score per criterion: each bar is the criterion's value (0..1), its share of
    the score in the tooltip (rows from `matching.breakdown_rows`)."""
    frame = pd.DataFrame(rows)
    return _horizontal_bars(
        frame,
        category="criterion",
        labels=list(frame["criterion"]) if len(frame) else [],
        value=_field(
            "value",
            "quantitative",
            title=None,
            scale={"domain": [0, 1]},
            axis={"format": "%", "values": [0, 0.5, 1]},
        ),
        chart_title=None,
        tooltip=[
            _field("criterion", "nominal", title=_("Criterion")),
            _field("value", "quantitative", title=_("Value"), format=".0%"),
            _field("weight", "quantitative", title=_("Weight")),
            _field("contribution", "quantitative", title=_("share of the score"), format=".0%"),
        ],
    )
