"""The uptake map: a pydeck choropleth of Europe from the shipped shapes, with twinning arcs.

Nothing is fetched from the internet: no tile server, only the shapes in data/. Colours come in
classes of a colour-blind-safe sequential palette (ColorBrewer's yellow-green-blue, pale for few
and dark for many); zero has the palest, quietest colour, so that a map of mostly zeros (the
twinnings) does not shout, and a country without data is grey. Shapes outside the platform's 42
countries, dependencies such as Greenland or the Faroe Islands included, have no data.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from dhu_core import geo, uptake
from dhu_core.i18n import N_, _, format_number

#: Zero, then the classes of positive values from pale to dark (ColorBrewer YlGnBu).
PALETTE = (
    (255, 255, 217),
    (199, 233, 180),
    (127, 205, 187),
    (65, 182, 196),
    (29, 145, 192),
    (37, 52, 148),
)
NO_DATA = (196, 196, 196)
SEA = (234, 242, 247)
BORDER = (255, 255, 255)
SELECTED = (19, 41, 61)
#: Twinning arcs run from the originator (orange) to the adopter (crimson).
ARC_SOURCE = (255, 140, 0)
ARC_TARGET = (200, 20, 60)
#: A completed twinning's arc is drawn twice as wide as one under way.
ARC_WIDTH = 3
COMPLETED_ARC_WIDTH = 6
COUNTRY_LAYER = "countries"
TOOLTIP = {
    "html": "<b>{title}</b><br/>{detail}",
    "style": {"backgroundColor": "#13293D", "color": "#FFFFFF", "fontSize": "14px"},
}
#: How an arc's tooltip names the state of its twinning.
TWINNING_STATES = {
    "agreed": N_("twinning agreed"),
    "in-transfer": N_("twinning in-transfer"),
    "completed": N_("twinning completed"),
}
VIEW = pdk.ViewState(latitude=54.0, longitude=13.0, zoom=2.6, min_zoom=2, max_zoom=8)
#: The sea: the whole world behind the countries (there is no base map).
WORLD = [[[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]]


@dataclass(frozen=True)
class ColourClass:
    """A class of the map's scale: the values up to `upper`, drawn in `colour`."""

    label: str
    upper: float
    colour: tuple[int, int, int]


def colour_classes(values: pd.Series, *, decimals: int = 0, count: int = 5) -> list[ColourClass]:
    """Zero, then up to `count` classes of the positive values split at their quantiles."""
    positive = values[values > 0]
    scale = 10**decimals
    quantiles = positive.quantile([step / count for step in range(1, count + 1)]).dropna()
    # Rounded up, so that the last bound still holds the largest value.
    uppers = sorted({math.ceil(q * scale - 1e-9) / scale for q in quantiles})
    bounds = [0.0, *uppers]
    colours = [
        PALETTE[round(index * (len(PALETTE) - 1) / max(len(uppers), 1))]
        for index in range(len(bounds))
    ]
    labels = ["0"] + [_range_label(low, high, decimals) for low, high in pairwise(bounds)]
    return [ColourClass(*item) for item in zip(labels, bounds, colours, strict=True)]


def _range_label(low: float, high: float, decimals: int) -> str:
    if decimals:
        if low == 0:
            return _("up to {number}").format(number=_number(high, decimals))
        return f"{_number(low, decimals)}–{_number(high, decimals)}"
    first = int(low) + 1
    return (
        format_number(first)
        if first == high
        else f"{format_number(first)}–{format_number(int(high))}"
    )


def _number(value: float, decimals: int) -> str:
    return format_number(value, decimals=decimals)


def colour_of(value: float | None, classes: list[ColourClass]) -> tuple[int, int, int]:
    """The colour of `value` in `classes`; grey when there is no value."""
    if value is None or pd.isna(value):
        return NO_DATA
    return next((c.colour for c in classes if value <= c.upper), classes[-1].colour)


def legend(countries: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The map's legend: one row per colour class, then "No data", with hex colours."""
    classes = colour_classes(countries[metric], decimals=uptake.METRICS[metric].decimals)
    rows = [(c.label, _hex(c.colour)) for c in classes] + [(_("No data"), _hex(NO_DATA))]
    return pd.DataFrame(rows, columns=["label", "colour"])


def _hex(colour: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{part:02x}" for part in colour)


class _CompactDeck(pdk.Deck):
    # pydeck indents its JSON: 2.7 MB for these shapes instead of 0.4 MB, on every rerun.
    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def uptake_map(
    countries: pd.DataFrame,
    metric: str,
    *,
    twinnings: pd.DataFrame | None = None,
    selected: str | None = None,
) -> pdk.Deck:
    """The choropleth of `metric` over the core countries, twinning arcs, `selected` outlined."""
    spec = uptake.METRICS[metric]
    classes = colour_classes(countries[metric], decimals=spec.decimals)
    values = dict(zip(countries["country"], countries[metric], strict=True))
    names = dict(zip(countries["country"], countries["name"], strict=True))
    core, context = [], []
    for feature in geo.country_shapes()["features"]:
        code = feature["properties"]["iso_a2"]
        if code not in values:
            context.append(feature)
            continue
        value = values[code]
        core.append(
            {
                "type": "Feature",
                "geometry": feature["geometry"],
                "properties": {
                    "iso_a2": code,
                    "title": _text(names[code]),
                    "detail": _text(f"{_number(value, spec.decimals)} {_(spec.unit)}"),
                    "fill": [*colour_of(value, classes), 235],
                },
            }
        )
    layers = [
        pdk.Layer(
            "SolidPolygonLayer",
            id="sea",
            data=[{"polygon": WORLD}],
            get_polygon="polygon",
            get_fill_color=SEA,
            pickable=False,
        ),
        pdk.Layer(
            "GeoJsonLayer",
            id="context",
            data={"type": "FeatureCollection", "features": context},
            get_fill_color=[*NO_DATA, 200],
            get_line_color=BORDER,
            line_width_min_pixels=0.5,
            pickable=False,
        ),
        pdk.Layer(
            "GeoJsonLayer",
            id=COUNTRY_LAYER,
            data={"type": "FeatureCollection", "features": core},
            get_fill_color="properties.fill",
            get_line_color=BORDER,
            line_width_min_pixels=1,
            pickable=True,
            auto_highlight=True,
            highlight_color=[255, 255, 255, 90],
            # Picking the borders too makes a click cost ~0.7 s of software WebGL (no GPU), and
            # deck.gl then takes the click for a long press: the fills alone pick in ~30 ms.
            _subLayerProps={"polygons-stroke": {"pickable": False}},
        ),
    ]
    if twinnings is not None and not twinnings.empty:
        layers.append(_arc_layer(twinnings))
    if selected in values:
        outline = [f for f in core if f["properties"]["iso_a2"] == selected]
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                id="selected",
                data={"type": "FeatureCollection", "features": outline},
                filled=False,
                get_line_color=SELECTED,
                line_width_min_pixels=3,
                pickable=False,
            )
        )
    # pydeck's default map style (a placeholder) means no base map in Streamlit; passing None
    # as the style would make Streamlit fetch Carto's base map from the internet.
    return _CompactDeck(layers=layers, initial_view_state=VIEW, map_provider=None, tooltip=TOOLTIP)


def _arc_layer(twinnings: pd.DataFrame) -> pdk.Layer:
    points = {code: [c.lon, c.lat] for code, c in geo.countries().items()}
    arcs = []
    pairs = _drawn(twinnings)
    for (origin, country), group in pairs.groupby(["origin", "country"]):
        # Twinnings between the same two countries fan out, so that each one can be seen.
        spread = min(12.0, 60.0 / len(group))
        for index, row in enumerate(group.itertuples()):
            arcs.append(
                {
                    "source": points[origin],
                    "target": points[country],
                    "tilt": (index - (len(group) - 1) / 2) * spread,
                    "width": COMPLETED_ARC_WIDTH if row.status == "completed" else ARC_WIDTH,
                    "title": _text(row.title),
                    "detail": _text(
                        _("{originator} ({origin}) → {adopter} ({country}) · {status}").format(
                            originator=row.originator,
                            origin=geo.country_name(origin),
                            adopter=row.adopter,
                            country=geo.country_name(country),
                            status=_(TWINNING_STATES.get(row.status, row.status)),
                        )
                    ),
                }
            )
    return pdk.Layer(
        "ArcLayer",
        id="twinnings",
        data=arcs,
        get_source_position="source",
        get_target_position="target",
        get_tilt="tilt",
        get_source_color=[*ARC_SOURCE, 230],
        get_target_color=[*ARC_TARGET, 230],
        get_width="width",
        width_min_pixels=2,
        pickable=True,
        auto_highlight=True,
    )


def _drawn(twinnings: pd.DataFrame) -> pd.DataFrame:
    """The twinnings drawn as arcs: between two countries of the map."""
    shown = set(geo.countries())
    pairs = twinnings[twinnings["origin"] != twinnings["country"]]
    return pairs[pairs["origin"].isin(shown) & pairs["country"].isin(shown)]


def twinning_table(twinnings: pd.DataFrame) -> pd.DataFrame:
    """The map's arcs in words (WCAG 1.4.1: the arc's colours alone say which way it runs): a
    row per twinning between two countries, with its practice, from whom, to whom and its
    state."""
    pairs = _drawn(twinnings).sort_values(
        ["origin", "country", "title"], key=lambda c: c.astype(str)
    )
    return pd.DataFrame(
        {
            _("Practice"): [_text(title) for title in pairs["title"]],
            _("From"): [
                f"{_text(row.originator)} ({geo.country_name(row.origin)})"
                for row in pairs.itertuples()
            ],
            _("To"): [
                f"{_text(row.adopter)} ({geo.country_name(row.country)})"
                for row in pairs.itertuples()
            ],
            _("State"): [_(TWINNING_STATES.get(status, status)) for status in pairs["status"]],
        }
    )


def _text(text: object) -> str:
    # Streamlit escapes every value it puts into the tooltip's HTML template (checked in
    # tests/test_browser_tooltip.py), so the values stay plain text here: escaped once more,
    # "<" would show as "&lt;".
    return " ".join(str(text).split())


def clicked_country(selection: Mapping) -> str | None:
    """The core country picked on the map, from the selection state of `st.pydeck_chart`."""
    for picked in (selection.get("objects") or {}).get(COUNTRY_LAYER) or []:
        if not isinstance(picked, Mapping):
            continue
        code = (picked.get("properties") or {}).get("iso_a2")
        if code in geo.countries():
            return code
    return None
