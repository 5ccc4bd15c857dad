"""Every chart has its text alternative under it: a summary and its figures as a table, equal to
the data the chart draws (WCAG 2.1 AA, 1.1.1 and 1.4.1; issue 16)."""

import json

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1.element_tree import Block

from tests.apptest import open_app, sign_in
from tests.german import english_left, in_german
from tests.test_map_page import _map_page

#: The charts of /map?country=EE, by the start of their titles.
MAP_CHARTS = (
    "Practices by type",
    "Maturity of the practices",
    "Registrations per year",
    "Cross-border uptake",
    "Health domains by type",
    "Practices deployed and people",
    "By type",
    "By maturity",
)


def walk(node):
    """The elements under `node`, in the order of the page."""
    if isinstance(node, Block):
        for child in node.children.values():
            yield from walk(child)
    else:
        yield node


def _title(element) -> str:
    title = json.loads(element.proto.spec).get("title") or ""
    title = title["text"] if isinstance(title, dict) else title
    return " ".join(title) if isinstance(title, list) else title


def charts_and_alternatives(at) -> list[tuple[str, pd.DataFrame, str, pd.DataFrame]]:
    """(title, the data drawn, the summary, the table) of every chart, the summary and the
    table being the first caption and table after the chart (and before the next chart)."""
    found, current = [], None
    for element in walk(at.main):
        if element.type == "vega_lite_chart":
            data = convert_arrow_bytes_to_pandas_df(element.proto.data.data)
            current = [_title(element), data, None, None]
            found.append(current)
        elif current and element.type == "caption" and current[2] is None:
            current[2] = element.value
        elif current and element.type == "table" and current[3] is None:
            current[3] = element.value
    return [tuple(chart) for chart in found]


def _counts(table: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in table["Practices"].items()}


def _cells(table: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(row, column) -> figure of a table with a row per category and a column per type."""
    return {(str(r), str(c)): int(v) for (r, c), v in table.stack().items()}


def _check_map_chart(title: str, data: pd.DataFrame, table: pd.DataFrame) -> None:
    if title.startswith(("Practices by type", "By type")):
        assert _counts(table) == dict(zip(data["type"], data["practices"], strict=True))
    elif title.startswith(("Maturity", "By maturity")):
        assert _counts(table) == dict(zip(data["level"], data["practices"], strict=True))
    elif title.startswith("Registrations"):
        cells = _cells(table)
        for row in data.itertuples():
            assert cells[(str(row.year), row.type)] == row.practices
        per_year = data.groupby(data["year"].astype(str))["practices"].sum()
        assert {y: cells[(y, "Total")] for y in per_year.index} == per_year.to_dict()
    elif title.startswith("Cross-border"):
        rows = set(table.reset_index().itertuples(index=False, name=None))
        drawn = set(zip(data["origin_name"], data["country_name"], data["practices"], strict=True))
        assert drawn <= rows and len(drawn) == min(len(rows), 15)
    elif title.startswith("Health domains"):
        cells = _cells(table)
        drawn = {(r.domain, r.type): r.practices for r in data.itertuples()}
        assert {key: cells[key] for key in drawn} == drawn
        assert sum(cells.values()) == sum(drawn.values())
    elif title.startswith("Practices deployed and people"):
        metric, indicator = data.columns[2], data.columns[3]
        shown = {name: (m, i) for name, m, i in table.itertuples(name=None)}
        drawn = dict(
            zip(data["name"], zip(data[metric], data[indicator], strict=True), strict=True)
        )
        assert shown == drawn
    else:
        raise AssertionError(f"a chart nobody checks: {title}")


def test_every_chart_of_the_map_page_has_a_summary_and_its_figures_as_a_table(embedded_app):
    at = _map_page(country="EE")
    found = charts_and_alternatives(at)

    titles = [title for title, *_ in found]
    assert all(any(t.startswith(start) for t in titles) for start in MAP_CHARTS), titles
    for title, data, summary, table in found:
        assert summary and table is not None, title
        _check_map_chart(title, data, table)
    summaries = dict((title, summary) for title, _, summary, _ in found)
    by_type = next(s for t, s in summaries.items() if t.startswith("Practices by type"))
    data = next(d for t, d, *_ in found if t.startswith("Practices by type"))
    top = data.sort_values("practices", ascending=False).iloc[0]
    assert by_type.startswith(f"Most practices are of the type {top.type} ({top.practices})")
    assert f"{data['practices'].sum()} practices in all." in by_type
    assert "Data table" in [expander.label for expander in at.expander]


def test_every_score_chart_of_the_twinning_page_has_a_summary_and_a_table(embedded_app):
    at = sign_in(open_app(), "demo-owner2")
    at.switch_page("app_pages/twinning.py").run()
    found = charts_and_alternatives(at)

    assert found
    for _, data, summary, table in found:
        shown = {
            criterion: (value, share) for criterion, value, share in table.itertuples(name=None)
        }
        drawn = {
            row.criterion: (f"{round(row.value * 100)}%", f"{round(row.contribution * 100)}%")
            for row in data.itertuples()
        }
        assert shown == drawn
        best = data.loc[data["value"].idxmax()]
        assert summary.startswith(f"Strongest criterion: {best.criterion} (")


def test_the_text_alternatives_in_german(app_data):
    at = in_german("map")

    assert "Datentabelle" in [expander.label for expander in at.expander]
    captions = [caption.value for caption in at.caption]
    assert any(c.startswith("Die meisten Praktiken sind vom Typ ") for c in captions), captions
    assert any(c.startswith("Die meisten Praktiken haben die Reifestufe ") for c in captions)
    assert any(" Praktiken insgesamt." in c for c in captions)
    assert any("grenzüberschreitende Flüsse von Praktiken" in c for c in captions)
    headers = {name for table in at.table for name in [table.value.index.name, *table.value]}
    assert {"Art", "Praktiken", "Reife", "Jahr", "Gesamt", "Gesundheitsbereich"} <= headers
    assert english_left(at) == []


def test_the_map_lists_its_twinning_arcs_in_words(embedded_app):
    """The arcs' colours say which way a twinning runs: the table under the map says it too."""
    at = _map_page()
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    arcs = next(layer for layer in deck["layers"] if layer["id"] == "twinnings")["data"]
    expander = next(e for e in at.expander if e.label == "The map's twinnings")
    table = expander.table[0].value.reset_index()

    assert len(table) == len(arcs) > 0
    rows = {(r.Practice, r.From, r.To, r.State) for r in table.itertuples()}
    for arc in arcs:
        ends, state = arc["detail"].rsplit(" · ", 1)
        origin, adopter = ends.split(" → ")
        assert (arc["title"], origin, adopter, state) in rows
    assert any("twice as wide" in caption.value for caption in at.caption)
