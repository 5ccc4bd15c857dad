"""Altair charts of the uptake figures: each takes the DataFrame of dhu_core.uptake it shows.

Sequential colours use viridis like the map (light for few, dark for many); the practice types
use the Okabe-Ito palette, which people with any common colour-vision deficiency can tell apart.
"""

import altair as alt
import pandas as pd

from dhu_core import taxonomy, uptake

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
PRIMARY = "#0B6E75"
SEQUENTIAL = alt.Scale(scheme="viridis", reverse=True)
COUNT_LEGEND = alt.Legend(tickMinStep=1, format=",d")
TYPE_LABELS = [taxonomy.PRACTICE_TYPES.label(code) for code in taxonomy.PRACTICE_TYPES]
TYPE_COLOURS = alt.Scale(domain=TYPE_LABELS, range=list(OKABE_ITO[: len(TYPE_LABELS)]))


def practices_by_type(frame: pd.DataFrame, *, title: str = "Practices by type") -> alt.Chart:
    """Horizontal bars: practices per type (from `uptake.by_type`)."""
    return (
        alt.Chart(frame, title=title)
        .mark_bar(color=PRIMARY, cornerRadiusEnd=3)
        .encode(
            x=alt.X("practices:Q", title="Practices"),
            y=alt.Y("type:N", title=None, sort=TYPE_LABELS, axis=alt.Axis(labelLimit=220)),
            tooltip=[alt.Tooltip("type:N", title="Type"), alt.Tooltip("practices:Q", format=",")],
        )
    )


def maturity_distribution(
    frame: pd.DataFrame, *, title: str = "Maturity of the practices"
) -> alt.Chart:
    """Bars per maturity level, from concept to cross-border (from `uptake.by_maturity`)."""
    levels = list(frame["level"])
    return (
        alt.Chart(frame, title=title)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            x=alt.X("level:N", title=None, sort=levels, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("practices:Q", title="Practices"),
            color=alt.Color("maturity:O", scale=SEQUENTIAL, legend=None),
            tooltip=[
                alt.Tooltip("level:N", title="Maturity"),
                alt.Tooltip("practices:Q", format=","),
            ],
        )
    )


def registrations_over_time(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: practices registered per year, by type (from `uptake.by_year`)."""
    return (
        alt.Chart(frame, title="Registrations per year")
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year of registration", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(practices):Q", title="Practices"),
            color=alt.Color("type:N", title="Type", scale=TYPE_COLOURS),
            order=alt.Order("practice_type:N"),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("practices:Q", format=","),
            ],
        )
    )


def domains_by_type(frame: pd.DataFrame) -> alt.Chart:
    """Heat map: practices per health domain and type (from `uptake.domains_by_type`)."""
    base = alt.Chart(frame).encode(
        x=alt.X(
            "type:N",
            title=None,
            sort=TYPE_LABELS,
            axis=alt.Axis(labelAngle=-30, labelOverlap=False, labelLimit=200),
        ),
        y=alt.Y("domain:N", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=260)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("practices:Q", title="Practices", scale=SEQUENTIAL, legend=COUNT_LEGEND),
        tooltip=[
            alt.Tooltip("domain:N", title="Health domain"),
            alt.Tooltip("type:N", title="Type"),
            alt.Tooltip("practices:Q", format=","),
        ],
    )
    return (cells + _cell_labels(base, frame)).properties(
        title="Health domains by type of practice", height=alt.Step(22)
    )


def cross_border_flows(frame: pd.DataFrame) -> alt.Chart:
    """Heat map: practices deployed abroad, owner's country x deployment country."""
    return (
        alt.Chart(frame, title="Cross-border uptake: who adopts practices from whom")
        .mark_rect()
        .encode(
            x=alt.X(
                "country_name:N",
                title="Deployed in",
                axis=alt.Axis(labelAngle=-45, labelOverlap=False),
            ),
            y=alt.Y(
                "origin_name:N",
                title="Owner's country",
                axis=alt.Axis(labelOverlap=False, labelLimit=200),
            ),
            color=alt.Color(
                "practices:Q", title="Practices", scale=SEQUENTIAL, legend=COUNT_LEGEND
            ),
            tooltip=[
                alt.Tooltip("origin_name:N", title="From"),
                alt.Tooltip("country_name:N", title="Deployed in"),
                alt.Tooltip("practices:Q", format=","),
            ],
        )
        .properties(height=alt.Step(16))
    )


def indicator_comparison(frame: pd.DataFrame, metric: str, indicator: str) -> alt.Chart:
    """Scatter: a metric of the platform against a public indicator, one point per country."""
    label = uptake.METRICS[metric].label
    public = uptake.INDICATORS[indicator]
    base = alt.Chart(frame).encode(
        x=alt.X(f"{indicator}:Q", title=f"{public} (% of individuals aged 16-74)"),
        y=alt.Y(f"{metric}:Q", title=label),
    )
    points = base.mark_circle(size=90, color=PRIMARY, opacity=0.85).encode(
        tooltip=[
            alt.Tooltip("name:N", title="Country"),
            alt.Tooltip(f"{metric}:Q", title=label, format=",.4~f"),
            alt.Tooltip(f"{indicator}:Q", title=f"{public} (%)"),
            alt.Tooltip(f"{indicator}_year:O", title="Year"),
        ]
    )
    labels = base.mark_text(align="left", dx=7, fontSize=11).encode(text="country:N")
    return (points + labels).properties(title=f"{label} and people {public.lower()}")


def map_legend(frame: pd.DataFrame, title: str) -> alt.Chart:
    """The map's colour classes as a row of labelled swatches (from `maps.legend`)."""
    labels = list(frame["label"])
    return (
        alt.Chart(frame, title=alt.Title(title, fontSize=13, anchor="start"), height=22)
        .mark_rect(stroke="#FFFFFF", strokeWidth=2)
        .encode(
            x=alt.X(
                "label:N",
                sort=labels,
                title=None,
                axis=alt.Axis(labelAngle=0, ticks=False, domain=False, labelFontSize=12),
            ),
            y=alt.value(0),
            y2=alt.value(22),
            color=alt.Color("colour:N", scale=None),
            tooltip=[alt.Tooltip("label:N", title="Class")],
        )
    )


def _cell_labels(base: alt.Chart, frame: pd.DataFrame) -> alt.Chart:
    # Dark text on the light half of the palette, white on the dark half.
    middle = frame["practices"].max() / 2 if len(frame) else 0
    return base.mark_text(fontSize=11).encode(
        text=alt.Text("practices:Q", format=","),
        color=alt.condition(
            alt.datum.practices > middle, alt.value("#FFFFFF"), alt.value("#13293D")
        ),
    )


def score_breakdown(rows: list[dict]) -> alt.Chart:
    """A twinning score per criterion: each bar is the criterion's value (0..1), its share of
    the score in the tooltip (rows from `matching.breakdown_rows`)."""
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame)
        .mark_bar(color="#0B6E75")
        .encode(
            x=alt.X(
                "value:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
            y=alt.Y("criterion:N", title=None, sort=None),
            tooltip=[
                alt.Tooltip("criterion:N"),
                alt.Tooltip("value:Q", format=".0%"),
                alt.Tooltip("weight:Q"),
                alt.Tooltip("contribution:Q", title="share of the score", format=".0%"),
            ],
        )
        .properties(height=alt.Step(14))
    )
