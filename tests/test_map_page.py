"""AppTest of the uptake map on a freshly started embedded database (demo data)."""

import json
import re
import sqlite3

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from dhu_core import geo, maps, uptake
from dhu_core.changes import SCOPES
from tests.apptest import APP

#: Published practices per deployment country, of the given types, maturities, domain, WHO
#: DHI group and registered since a date (each filter only when given).
DEPLOYED = """
SELECT pc.country, count(*) FROM practice_country pc JOIN practice p ON p.id = pc.practice_id
WHERE p.status = 'published'
  AND (:types IS NULL OR p.practice_type IN (SELECT value FROM json_each(:types)))
  AND (:maturities IS NULL OR p.maturity IN (SELECT value FROM json_each(:maturities)))
  AND (:domain IS NULL OR p.id IN
       (SELECT practice_id FROM practice_tag WHERE kind = 'domain' AND code = :domain))
  AND (:dhi IS NULL OR p.id IN
       (SELECT practice_id FROM practice_tag WHERE kind = 'dhi' AND code LIKE :dhi))
  AND (:since IS NULL OR p.created_at >= :since)
GROUP BY pc.country
"""


def _map_page(**params: str | list[str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/map.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception
    return at


def _query(path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def _deployed(
    path,
    *,
    types: list[str] | None = None,
    maturities: list[int] | None = None,
    domain: str | None = None,
    dhi: str | None = None,
    since: str | None = None,
) -> dict[str, int]:
    """Practices per core country, counted straight from the database."""
    params = {
        "types": json.dumps(types) if types else None,
        "maturities": json.dumps(maturities) if maturities else None,
        "domain": domain,
        "dhi": dhi,
        "since": since,
    }
    with sqlite3.connect(path) as conn:
        counts = dict(conn.execute(DEPLOYED, params).fetchall())
    return {code: counts.get(code, 0) for code in geo.countries()}


def _map_figures(at: AppTest) -> dict[str, int]:
    """The figure in each country's tooltip on the map."""
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layer = next(layer for layer in spec["layers"] if layer["id"] == maps.COUNTRY_LAYER)
    return {
        feature["properties"]["iso_a2"]: int(
            re.match(r"[\d,]+", feature["properties"]["detail"]).group().replace(",", "")
        )
        for feature in layer["data"]["features"]
    }


def _charts(at: AppTest) -> dict[str, pd.DataFrame]:
    """Each chart's title and the data it draws."""
    charts = {}
    for element in at.get("vega_lite_chart"):
        title = json.loads(element.proto.spec).get("title")
        title = title["text"] if isinstance(title, dict) else title
        title = " ".join(title) if isinstance(title, list) else title
        charts[title] = convert_arrow_bytes_to_pandas_df(element.proto.data.data)
    return charts


def test_the_map_shows_the_practices_deployed_per_country(embedded_app):
    at = _map_page()

    assert _map_figures(at) == _deployed(embedded_app / "dhu.sqlite3")
    assert at.get("deck_gl_json_chart")[0].proto.selection_mode
    assert at.query_params == {}


def test_filters_from_the_url_apply_to_the_map_and_every_chart(embedded_app):
    at = _map_page(type="app", maturity=["3", "4"], metric="mature")
    database = embedded_app / "dhu.sqlite3"

    assert at.multiselect(key="map_type").value == ["app"]
    assert at.multiselect(key="map_maturity").value == [3, 4]
    filtered = _deployed(database, types=["app"], maturities=[3, 4])
    assert _map_figures(at) == filtered
    charts = _charts(at)
    by_type = charts["Practices by type"].set_index("practice_type")["practices"]
    expected = _query(
        database,
        "SELECT count(*) FROM practice "
        "WHERE status = 'published' AND practice_type = 'app' AND maturity IN (3, 4)",
    )[0][0]
    assert by_type.to_dict() == {
        "policy": 0, "strategy": 0, "app": expected, "service": 0, "framework": 0, "model": 0,
    }  # fmt: skip
    by_maturity = charts["Maturity of the practices"].set_index("maturity")["practices"]
    assert by_maturity[[1, 2, 5]].sum() == 0
    assert int(charts["Registrations per year"]["practices"].sum()) == expected
    assert set(charts["Health domains by type of practice"]["practice_type"]) == {"app"}
    largest_flows = _query(
        database,
        "SELECT o.country, pc.country, count(*) AS n FROM practice_country pc "
        "JOIN practice p ON p.id = pc.practice_id "
        "JOIN organisation o ON o.id = p.owner_organisation_id "
        "WHERE p.status = 'published' AND p.practice_type = 'app' AND p.maturity IN (3, 4) "
        "AND o.country != pc.country GROUP BY o.country, pc.country "
        "ORDER BY n DESC, o.country, pc.country LIMIT 15",
    )
    flow_chart = charts["Cross-border uptake: who adopts practices from whom"]
    shown = flow_chart[["origin", "country", "practices"]].itertuples(index=False, name=None)
    assert list(shown) == largest_flows
    comparison = next(frame for frame in charts.values() if "I_IUAPR" in frame.columns)
    mature = comparison.set_index("country")["mature"].to_dict()
    assert all(mature[code] == filtered[code] for code in mature)


def test_widgets_write_the_filters_to_the_url(embedded_app):
    at = _map_page()
    at.multiselect(key="map_domain").set_value(["cancer"])
    at.multiselect(key="map_dhi").set_value(["2.0"])
    at.slider(key="map_years").set_value((2021, 2026))
    at.get("button_group")[0].set_value("per_million")
    at.run()

    assert at.query_params == {
        "domain": "cancer",
        "dhi": "2.0",
        "from": "2021",
        "metric": "per_million",
    }
    deployed = _deployed(
        embedded_app / "dhu.sqlite3", domain="cancer", dhi="2.%", since="2021-01-01"
    )
    assert sum(deployed.values()) > 0
    legend = next(html.proto.body for html in at.get("html") if "dhu-legend" in html.proto.body)
    assert "Per million inhabitants" in legend
    assert legend.rindex("No data") > legend.rindex("dhu-swatch")
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layer = next(layer for layer in spec["layers"] if layer["id"] == maps.COUNTRY_LAYER)
    estonia = next(f for f in layer["data"]["features"] if f["properties"]["iso_a2"] == "EE")
    per_million = deployed["EE"] * 1e6 / geo.countries()["EE"].population
    assert estonia["properties"]["detail"].startswith(f"{per_million:,.1f} practices per million")


def _figures_table(at: AppTest) -> tuple[list[str], dict[str, list[str]]]:
    """The header and the rows (by the country's name) of the map's figures as a table."""
    body = next(e.proto.body for e in at.get("html") if "Figures per country" in e.proto.body)
    header = re.findall(r'<th scope="col">([^<]*)</th>', body)
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', body)
    return header, {name: re.findall(r"<td>([^<]*)</td>", cells) for name, cells in rows}


def test_the_map_has_its_figures_as_a_table_too(embedded_app):
    """The map's equivalent for screen readers (issue 16): every figure of every country."""
    at = _map_page(type="app")
    header, rows = _figures_table(at)

    assert header == ["Country", *(metric.label for metric in uptake.METRICS.values())]
    deployed = _deployed(embedded_app / "dhu.sqlite3", types=["app"])
    names = {geo.country_name(code): code for code in geo.countries()}
    assert list(rows) == sorted(names)
    assert {names[name]: int(cells[0].replace(",", "")) for name, cells in rows.items()} == (
        deployed
    )
    estonia = deployed["EE"] * 1e6 / geo.countries()["EE"].population
    assert rows["Estonia"][1] == f"{estonia:,.1f}"


def test_choosing_a_country_opens_its_panel(embedded_app):
    at = _map_page(type="service")
    at.selectbox(key="map_country").set_value("EE").run()
    database = embedded_app / "dhu.sqlite3"

    assert not at.exception
    assert at.query_params == {"type": "service", "country": "EE"}
    assert "Estonia" in [header.value for header in at.subheader]
    ids = [
        row[0]
        for row in _query(
            database,
            "SELECT p.id FROM practice p JOIN practice_country pc ON pc.practice_id = p.id "
            "WHERE p.status = 'published' AND p.practice_type = 'service' AND pc.country = 'EE' "
            "ORDER BY p.maturity DESC, p.published_at DESC, p.id DESC",
        )
    ]
    listed = next(md.value for md in at.markdown if "/radar?practice=" in md.value)
    assert [int(i) for i in re.findall(r"/radar\?practice=(\d+)", listed)] == ids
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Practices deployed"] == str(len(ids))
    charts = _charts(at)
    assert int(charts["By type"].set_index("practice_type")["practices"]["service"]) == len(ids)
    assert int(charts["By maturity"]["practices"].sum()) == len(ids)
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    outline = next(layer for layer in spec["layers"] if layer["id"] == "selected")
    assert [f["properties"]["iso_a2"] for f in outline["data"]["features"]] == ["EE"]
    assert any("/radar?country=EE&type=service" in md.value for md in at.markdown)


def test_a_country_in_the_url_opens_its_panel_and_titles_are_escaped(embedded_app):
    database = embedded_app / "dhu.sqlite3"
    _map_page()  # prepares the demo database
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE practice SET title = '<img src=x onerror=alert(1)> *bold*' WHERE id = "
            "(SELECT min(p.id) FROM practice p JOIN practice_country pc ON pc.practice_id = p.id "
            "WHERE p.status = 'published' AND pc.country = 'PT')"
        )
        conn.executemany("INSERT INTO data_change (scope) VALUES (?)", [(s,) for s in SCOPES])

    at = _map_page(country="PT")

    listed = next(md.value for md in at.markdown if "/radar?practice=" in md.value)
    assert not re.search(r"(?<!\\)<img", listed)
    assert r"\<img src\=x onerror\=alert\(1\)\> \*bold\*" in listed


def test_a_new_practice_shows_on_the_next_rerun(embedded_app):
    at = _map_page()
    database = embedded_app / "dhu.sqlite3"
    before = _map_figures(at)
    with sqlite3.connect(database) as conn:
        practice_id = conn.execute(
            "SELECT min(id) FROM practice WHERE status != 'published'"
        ).fetchone()[0]
        conn.execute("UPDATE practice SET status = 'published' WHERE id = ?", (practice_id,))
        conn.executemany("INSERT INTO data_change (scope) VALUES (?)", [(s,) for s in SCOPES])
        countries = [
            row[0]
            for row in conn.execute(
                "SELECT country FROM practice_country WHERE practice_id = ?", (practice_id,)
            )
        ]
    at.run()

    after = _map_figures(at)
    assert {code: after[code] - before[code] for code in countries} == dict.fromkeys(countries, 1)


def test_a_rerun_without_the_metric_from_the_browser_keeps_the_metric_shown(embedded_app):
    at = _map_page(metric="twinnings")
    # What the browser sent when a click on the map reran the page while it was still drawn.
    at.session_state["map_metric"] = None
    at.run()

    assert not at.exception and not at.error
    assert at.get("button_group")[0].value == "twinnings"
    assert at.query_params["metric"] == "twinnings"
