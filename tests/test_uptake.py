"""Uptake aggregates on a hand-built data set (SQLite and PostgreSQL); map and chart builders."""

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest

from dhu_core import charts, db, geo, maps, spreadsheet, uptake
from dhu_core.config import DATA_DIR
from dhu_core.models import (
    Organisation,
    Practice,
    PracticeCountry,
    PracticeTag,
    TwinningMatch,
    TwinningNeed,
)
from dhu_core.uptake import UptakeFilters, UptakeView

EVIL = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
#: title: (status, type, maturity, registered, owner, deployment countries, tags)
PRACTICES = {
    "Heart app": ("published", "app", 4, datetime(2021, 3, 1, tzinfo=UTC), "tartu",
                  ["EE", "LV", "PT"], {"domain": ["cardiovascular"], "dhi": ["1.4.2"],
                                       "standard": ["fhir"]}),
    "Mood service": ("published", "service", 2, datetime(2022, 6, 1, tzinfo=UTC), "tartu",
                     ["EE"], {"domain": ["mental-health"], "dhi": ["2.3.1"]}),
    # Registered half an hour before the new year in UTC: 2023, whatever the server's time zone.
    "Heart policy": ("published", "policy", 3, datetime(2023, 12, 31, 23, 30, tzinfo=UTC),
                     "porto", ["PT", "EE"], {"domain": ["cardiovascular"],
                                             "standard": ["snomed-ct"], "dhi": ["3.1.1"]}),
    EVIL: ("published", "framework", 1, datetime(2024, 1, 1, 0, 30, tzinfo=UTC), "evil",
           ["DE", "EE"], {"domain": ["general"]}),
    "Draft app": ("draft", "app", 5, datetime(2020, 5, 1, tzinfo=UTC), "tartu", ["EE", "DE"],
                  {"domain": ["cardiovascular"]}),
    "Old app": ("archived", "app", 3, datetime(2022, 1, 1, tzinfo=UTC), "porto", ["PT"], {}),
}  # fmt: skip
ORGANISATIONS = {
    "tartu": ("Tartu Clinic", "EE"),
    "porto": ("Porto Lab", "PT"),
    "evil": (EVIL, "DE"),
    "lisbon": ("Lisbon Hospital", "PT"),
    "riga": ("Riga Hospital", "LV"),
}
#: (adopter organisation, need country, practice, match status)
MATCHES = [
    ("lisbon", "PT", "Heart app", "agreed"),
    ("riga", "LV", EVIL, "completed"),
    ("riga", "LV", "Mood service", "suggested"),
    ("tartu", "EE", "Mood service", "in-transfer"),
    ("lisbon", "PT", "Draft app", "agreed"),
    ("lisbon", "PT", "Heart policy", "declined"),
]


@pytest.fixture
def ids(engine) -> dict[str, int]:
    """The hand-built data set; returns the practice ids by title."""
    with db.session_scope(engine) as session:
        orgs = {key: Organisation(name=n, country=c) for key, (n, c) in ORGANISATIONS.items()}
        session.add_all(orgs.values())
        session.flush()
        practices = {}
        for title, (status, kind, maturity, created, owner, countries, tags) in PRACTICES.items():
            practice = Practice(
                title=title,
                status=status,
                practice_type=kind,
                maturity=maturity,
                created_at=created,
                published_at=created if status == "published" else None,
                owner_organisation_id=orgs[owner].id,
            )
            session.add(practice)
            session.flush()
            practices[title] = practice.id
            session.add_all(PracticeCountry(practice_id=practice.id, country=c) for c in countries)
            session.add_all(
                PracticeTag(practice_id=practice.id, kind=kind, code=code)
                for kind, codes in tags.items()
                for code in codes
            )
        for adopter, country, title, status in MATCHES:
            need = TwinningNeed(
                problem_statement="We need a way to follow patients at home after discharge.",
                country=country,
                organisation_id=orgs[adopter].id,
            )
            session.add(need)
            session.flush()
            session.add(TwinningMatch(need_id=need.id, practice_id=practices[title], status=status))
    return practices


def _figures(table: pd.DataFrame, *countries: str) -> dict[str, dict[str, int]]:
    columns = ["deployed", "mature", "adopted", "originated", "twinnings"]
    rows = table.set_index("country").loc[list(countries), columns]
    return {code: {c: int(v) for c, v in row.items()} for code, row in rows.iterrows()}


def test_country_uptake_counts_published_practices_by_country(engine, ids):
    table = uptake.country_uptake(UptakeFilters(), engine=engine)

    assert list(table["country"]) == list(geo.countries())
    assert _figures(table, "EE", "LV", "PT", "DE", "FR") == {
        # Heart app, Mood service, Heart policy (PT) and EVIL (DE); the draft does not count.
        "EE": {"deployed": 4, "mature": 2, "adopted": 2, "originated": 2, "twinnings": 2},
        "LV": {"deployed": 1, "mature": 1, "adopted": 1, "originated": 0, "twinnings": 1},
        "PT": {"deployed": 2, "mature": 2, "adopted": 1, "originated": 1, "twinnings": 1},
        "DE": {"deployed": 1, "mature": 0, "adopted": 0, "originated": 1, "twinnings": 1},
        "FR": {"deployed": 0, "mature": 0, "adopted": 0, "originated": 0, "twinnings": 0},
    }


def test_per_million_uses_the_population_of_the_country(engine, ids):
    table = uptake.country_uptake(UptakeFilters(), engine=engine).set_index("country")

    for code, deployed in {"EE": 4, "PT": 2, "FR": 0}.items():
        population = geo.countries()[code].population
        assert table.loc[code, "population"] == population
        assert table.loc[code, "per_million"] == pytest.approx(deployed * 1e6 / population, 1e-3)


@pytest.mark.parametrize(
    ("filters", "deployed_in_ee", "originated_in_ee", "twinnings"),
    [
        (UptakeFilters(practice_types=("app",)), 1, 1, {"EE": 1, "PT": 1, "LV": 0, "DE": 0}),
        (UptakeFilters(practice_types=("app", "framework")), 2, 1, {"EE": 1, "LV": 1, "DE": 1}),
        (UptakeFilters(maturities=(3, 4)), 2, 1, {"EE": 1, "PT": 1, "LV": 0}),
        (UptakeFilters(health_domains=("cardiovascular",)), 2, 1, {"EE": 1, "PT": 1}),
        (UptakeFilters(dhi_groups=("2.0",)), 1, 1, {"EE": 1, "PT": 0}),
        (UptakeFilters(dhi_groups=("1.0", "3.0")), 2, 1, {"EE": 1, "PT": 1}),
        (UptakeFilters(standards=("fhir",)), 1, 1, {"PT": 1}),
        (UptakeFilters(first_year=2024), 1, 0, {"EE": 0, "LV": 1, "DE": 1}),
        (UptakeFilters(last_year=2023), 3, 2, {"EE": 2, "PT": 1, "LV": 0}),
        (UptakeFilters(first_year=2022, last_year=2023), 2, 1, {"EE": 1, "PT": 0}),
        (UptakeFilters(practice_types=("app",), maturities=(1,)), 0, 0, {"EE": 0, "PT": 0}),
    ],
)
def test_each_filter_narrows_the_counted_practices(
    engine, ids, filters, deployed_in_ee, originated_in_ee, twinnings
):
    table = uptake.country_uptake(filters, engine=engine).set_index("country")

    assert table.loc["EE", "deployed"] == deployed_in_ee
    assert table.loc["EE", "originated"] == originated_in_ee
    assert {code: table.loc[code, "twinnings"] for code in twinnings} == twinnings


def test_cross_border_flows_go_from_the_owners_country_to_the_deployment(engine, ids):
    flows = uptake.cross_border_flows(UptakeFilters(), engine=engine)

    pairs = {(row.origin, row.country): row.practices for row in flows.itertuples()}
    assert pairs == {("EE", "LV"): 1, ("EE", "PT"): 1, ("PT", "EE"): 1, ("DE", "EE"): 1}
    assert set(flows["origin_name"]) == {"Estonia", "Portugal", "Germany"}


def test_twinnings_list_agreed_to_completed_matches_of_published_practices(engine, ids):
    twinnings = uptake.twinnings(UptakeFilters(), engine=engine)

    rows = twinnings[["title", "originator", "origin", "adopter", "country", "status"]]
    assert rows.values.tolist() == [
        ["Heart app", "Tartu Clinic", "EE", "Lisbon Hospital", "PT", "agreed"],
        [EVIL, EVIL, "DE", "Riga Hospital", "LV", "completed"],
        ["Mood service", "Tartu Clinic", "EE", "Tartu Clinic", "EE", "in-transfer"],
    ]
    assert uptake.twinnings(UptakeFilters(first_year=2024), engine=engine)["title"].tolist() == [
        EVIL
    ]


def test_the_profile_counts_types_maturity_and_years_of_registration(engine, ids):
    profile = uptake.practice_profile(UptakeFilters(), engine=engine)

    rows = profile.sort_values("year").values.tolist()
    assert rows == [
        ["app", 4, 2021, 1],
        ["service", 2, 2022, 1],
        ["policy", 3, 2023, 1],
        ["framework", 1, 2024, 1],
    ]
    assert dict(uptake.by_type(profile)[["practice_type", "practices"]].values.tolist()) == {
        "policy": 1, "strategy": 0, "app": 1, "service": 1, "framework": 1, "model": 0,
    }  # fmt: skip
    assert uptake.by_maturity(profile)["practices"].tolist() == [1, 1, 1, 1, 0]
    assert uptake.by_year(profile)[["year", "type"]].values.tolist() == [
        [2021, "App"],
        [2022, "Complex solution or service"],
        [2023, "Policy"],
        [2024, "Assessment framework"],
    ]
    in_pt = uptake.practice_profile(UptakeFilters(), country="PT", engine=engine)
    assert sorted(in_pt["practice_type"]) == ["app", "policy"]


def test_domains_by_type_count_each_domain_of_a_practice(engine, ids):
    domains = uptake.domains_by_type(UptakeFilters(), engine=engine)

    assert domains[["health_domain", "practice_type", "practices"]].values.tolist() == [
        ["cardiovascular", "app", 1],
        ["cardiovascular", "policy", 1],
        ["general", "framework", 1],
        ["mental-health", "service", 1],
    ]


def test_a_country_lists_its_practices_most_mature_first(engine, ids):
    detail = uptake.country_detail(UptakeFilters(), "EE", engine=engine)

    assert detail.practices["practice_id"].tolist() == [
        ids["Heart app"],
        ids["Heart policy"],
        ids["Mood service"],
        ids[EVIL],
    ]
    assert detail.practices.iloc[1][["organisation", "origin"]].tolist() == ["Porto Lab", "PT"]
    assert int(detail.profile["practices"].sum()) == 4
    limited = uptake.country_practices(UptakeFilters(maturities=(2,)), "EE", engine=engine)
    assert limited["title"].tolist() == ["Mood service"]


def test_overview_and_years_of_registration(engine, ids):
    overview = uptake.overview(UptakeFilters(), engine=engine)

    assert int(overview.profile["practices"].sum()) == 4
    assert len(overview.twinnings) == 3
    assert int(overview.flows["practices"].sum()) == 4
    # The draft of 2020 is the first registration.
    assert uptake.registration_years(engine=engine) == (2020, datetime.now(UTC).year)


def test_an_empty_database_gives_zeros_and_empty_charts(engine):
    data = uptake.overview(UptakeFilters(), engine=engine)

    assert len(data.countries) == len(geo.countries())
    assert data.countries[list(uptake.METRICS)].sum().sum() == 0
    assert data.twinnings.empty and data.flows.empty and data.domains.empty
    assert uptake.by_type(data.profile)["practices"].sum() == 0
    assert uptake.by_year(data.profile).empty
    deck = maps.uptake_map(data.countries, "per_million", twinnings=data.twinnings)
    assert [c.label for c in maps.colour_classes(data.countries["per_million"])] == ["0"]
    assert "twinnings" not in [layer.id for layer in deck.layers]
    charts.registrations_over_time(uptake.by_year(data.profile))
    charts.cross_border_flows(data.flows)
    charts.domains_by_type(data.domains)
    this_year = datetime.now(UTC).year
    assert uptake.registration_years(engine=engine) == (this_year, this_year)


def test_a_new_practice_shows_with_the_next_data_version(engine, ids):
    version = db.data_version(engine)
    with db.session_scope(engine) as session:
        org = Organisation(name="Vilnius Lab", country="LT")
        session.add(org)
        session.flush()
        practice = Practice(
            title="New app", status="published", practice_type="app", maturity=2,
            owner_organisation_id=org.id,
        )  # fmt: skip
        session.add(practice)
        session.flush()
        session.add(PracticeCountry(practice_id=practice.id, country="LT"))

    assert db.data_version(engine) > version
    table = uptake.country_uptake(UptakeFilters(), engine=engine).set_index("country")
    assert table.loc["LT", "deployed"] == 1


def test_the_deck_hands_what_users_typed_to_the_browser_as_plain_text_once(engine, ids):
    # Streamlit escapes tooltip values itself (tests/test_browser_tooltip.py): escaping them
    # here as well showed "&lt;" to people.
    data = uptake.overview(UptakeFilters(), engine=engine)
    deck = maps.uptake_map(data.countries, "deployed", twinnings=data.twinnings)

    assert ESCAPED not in deck.to_json()
    arcs = _layer(deck, "twinnings")["data"]
    evil = next(arc for arc in arcs if arc["title"] == EVIL)
    assert evil["detail"].startswith(f"{EVIL} (Germany) → Riga Hospital (Latvia)")
    assert evil["source"] == [geo.countries()["DE"].lon, geo.countries()["DE"].lat]
    assert evil["target"] == [geo.countries()["LV"].lon, geo.countries()["LV"].lat]
    # Twinnings within one country have no arc.
    assert len(arcs) == 2


# --- URL parameters ------------------------------------------------------------------------


def test_filters_and_view_round_trip_through_url_parameters():
    view = UptakeView(
        filters=UptakeFilters(
            practice_types=("app", "policy"),
            maturities=(3, 5),
            health_domains=("cancer",),
            dhi_groups=("2.0",),
            standards=("fhir",),
            first_year=2021,
            last_year=2024,
        ),
        metric="per_million",
        country="EE",
        indicator="I_IHIF",
    )

    params = view.to_params()
    assert params["type"] == ["app", "policy"]
    assert params["maturity"] == ["3", "5"]
    assert (params["from"], params["to"], params["country"]) == ("2021", "2024", "EE")
    assert UptakeView.from_params(params) == view
    assert UptakeView().to_params() == {}


def test_url_parameters_that_make_no_sense_are_ignored():
    view = UptakeView.from_params(
        {
            "type": ["App", "nonsense", "app"],
            "maturity": "3,9",
            "dhi": ["4.0", "7.0"],
            "from": "20x1",
            "to": "1066",
            "metric": "<script>",
            "country": "zz",
            "indicator": "desi_aehr",
        }
    )

    assert view == UptakeView(
        filters=UptakeFilters(practice_types=("app",), maturities=(3,), dhi_groups=("4.0",))
    )


def test_year_range_of_the_slider_and_back():
    span = (2019, 2026)
    assert uptake.year_span(UptakeFilters(), span) == (2019, 2026)
    assert uptake.year_span(UptakeFilters(first_year=2010, last_year=2030), span) == span
    assert uptake.year_span(UptakeFilters(first_year=2022, last_year=2020), span) == (2022, 2022)
    chosen = UptakeFilters(standards=("fhir",))
    assert uptake.with_years(chosen, (2019, 2026), span) == chosen
    assert uptake.with_years(chosen, (2020, 2026), span) == UptakeFilters(
        standards=("fhir",), first_year=2020
    )


def test_radar_link_carries_the_filters_radar_knows():
    filters = UptakeFilters(practice_types=("app",), dhi_groups=("1.0",), first_year=2022)
    assert uptake.radar_url(filters, "EE") == "/radar?country=EE&type=app&dhi=1.0"


# --- public indicator and downloads ----------------------------------------------------------


def test_the_indicator_comparison_uses_one_year_for_every_country():
    with open(DATA_DIR / "ehealth_indicators.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["indicator_code"] == "I_IUAPR"]
    latest = max(int(r["year"]) for r in rows)
    estonia = next(r for r in rows if r["iso_a2"] == "EE" and int(r["year"]) == latest)
    # Czechia's latest value is older than the others': it must not stand beside them.
    assert max(int(r["year"]) for r in rows if r["iso_a2"] == "CZ") < latest
    countries = pd.DataFrame(
        {
            "country": ["EE", "CZ", "FR"],
            "name": ["Estonia", "Czechia", "France"],
            "deployed": [4, 0, 1],
        }
    )

    compared = uptake.indicator_comparison(countries, "deployed", "I_IUAPR")

    assert compared.year == latest
    frame = compared.frame.set_index("country")
    assert set(frame.index) == {"EE", "FR"}
    assert set(frame["year"]) == {latest}
    assert frame.loc["EE", "I_IUAPR"] == float(estonia["value"])
    assert frame.loc["EE", "deployed"] == 4
    assert compared.missing == ("Czechia",)


def test_csv_downloads_defuse_spreadsheet_formulas():
    frame = pd.DataFrame({"title": ["=HYPERLINK(1)", "Plain"], "practices": [-1, 2]})
    text = spreadsheet.frame_csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines() == ["title,practices", "'=HYPERLINK(1),-1", "Plain,2"]


# --- map builder ---------------------------------------------------------------------------


def _countries(**deployed: int) -> pd.DataFrame:
    codes = list(geo.countries())
    frame = pd.DataFrame({"country": codes, "name": [geo.country_name(c) for c in codes]})
    for metric in uptake.METRICS:
        frame[metric] = [deployed.get(code, 0) for code in codes]
    return frame


def _layer(deck, layer_id: str) -> dict:
    spec = json.loads(deck.to_json())
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


def test_the_map_fetches_nothing_from_the_internet():
    deck = maps.uptake_map(_countries(EE=3), "deployed")

    assert deck.map_provider is None
    spec = json.loads(deck.to_json())
    # pydeck's placeholder: Streamlit draws no base map (map_style=None would load Carto's).
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in spec
    assert "http" not in deck.to_json()


def test_zero_and_no_data_have_different_colours():
    deck = maps.uptake_map(_countries(EE=3, DE=10, FR=1), "deployed")

    fills = {
        f["properties"]["iso_a2"]: tuple(f["properties"]["fill"][:3])
        for f in _layer(deck, maps.COUNTRY_LAYER)["data"]["features"]
    }
    assert set(fills) == set(geo.countries())
    assert fills["PL"] == maps.PALETTE[0]
    assert fills["DE"] == maps.PALETTE[-1]
    assert len({fills["FR"], fills["EE"], fills["DE"], fills["PL"]}) == 4
    context = _layer(deck, "context")
    assert tuple(context["getFillColor"][:3]) == maps.NO_DATA != maps.PALETTE[0]
    outside = {f["properties"]["iso_a2"] for f in context["data"]["features"]}
    assert {"RU", "GL", "FO", "AD"} <= outside
    assert not outside & set(geo.countries())


def test_the_tooltip_names_the_country_and_its_figure():
    deck = maps.uptake_map(_countries(EE=1234), "deployed")
    estonia = next(
        f["properties"]
        for f in _layer(deck, maps.COUNTRY_LAYER)["data"]["features"]
        if f["properties"]["iso_a2"] == "EE"
    )
    assert estonia["title"] == "Estonia"
    assert estonia["detail"] == "1,234 practices deployed"
    assert "{title}" in deck._tooltip["html"]


def test_colour_classes_split_the_positive_values_and_name_their_ranges():
    classes = maps.colour_classes(pd.Series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    assert [c.label for c in classes] == ["0", "1–3", "4–5", "6–7", "8–9", "10"]
    assert [c.colour for c in classes] == list(maps.PALETTE)
    assert maps.colour_of(0, classes) == maps.PALETTE[0]
    assert maps.colour_of(10, classes) == maps.PALETTE[-1]
    assert maps.colour_of(None, classes) == maps.NO_DATA

    only_zero = maps.colour_classes(pd.Series([0, 0]))
    assert [c.label for c in only_zero] == ["0"]
    decimals = maps.colour_classes(pd.Series([0.0, 0.25, 3.04]), decimals=1, count=2)
    assert [c.label for c in decimals] == ["0", "up to 1.7", "1.7–3.1"]


def test_the_legend_ends_with_no_data():
    legend = maps.legend(_countries(EE=3, DE=1), "deployed")
    assert legend.values.tolist()[0] == ["0", "#ffffd9"]
    assert legend.values.tolist()[-1] == ["No data", "#c4c4c4"]


def test_the_selected_country_is_outlined():
    deck = maps.uptake_map(_countries(EE=3), "deployed", selected="EE")
    outline = _layer(deck, "selected")["data"]["features"]
    assert [f["properties"]["iso_a2"] for f in outline] == ["EE"]


def test_a_click_on_the_map_gives_the_country():
    feature = {"type": "Feature", "properties": {"iso_a2": "PT", "title": "Portugal"}}
    selection = {"indices": {maps.COUNTRY_LAYER: [3]}, "objects": {maps.COUNTRY_LAYER: [feature]}}
    assert maps.clicked_country(selection) == "PT"
    assert maps.clicked_country({"indices": {}, "objects": {}}) is None
    arc = {"title": "A twinning"}
    assert maps.clicked_country({"objects": {"twinnings": [arc]}}) is None
    outside = {"objects": {maps.COUNTRY_LAYER: [{"properties": {"iso_a2": "RU"}}]}}
    assert maps.clicked_country(outside) is None


# --- chart builders ------------------------------------------------------------------------


def _data(chart) -> list[dict]:
    return chart["data"]["values"]


def test_charts_carry_the_figures_they_show():
    profile = pd.DataFrame(
        [["app", 4, 2021, 2], ["policy", 3, 2023, 1], ["app", 1, 2023, 1]],
        columns=["practice_type", "maturity", "year", "practices"],
    )
    types = _data(charts.practices_by_type(uptake.by_type(profile)))
    assert {row["type"]: row["practices"] for row in types}["App"] == 3
    levels = _data(charts.maturity_distribution(uptake.by_maturity(profile)))
    assert [row["practices"] for row in levels] == [1, 0, 1, 2, 0]
    years = _data(charts.registrations_over_time(uptake.by_year(profile)))
    assert {(row["year"], row["type"], row["practices"]) for row in years} == {
        (2021, "App", 2),
        (2023, "App", 1),
        (2023, "Policy", 1),
    }


def test_flow_domain_indicator_and_legend_charts():
    flows = pd.DataFrame(
        [["EE", "Estonia", "PT", "Portugal", 2]],
        columns=["origin", "origin_name", "country", "country_name", "practices"],
    )
    assert _data(charts.cross_border_flows(flows))[0]["practices"] == 2
    domains = pd.DataFrame(
        [["cancer", "Cancer", "app", "App", 5]],
        columns=["health_domain", "domain", "practice_type", "type", "practices"],
    )
    assert _data(charts.domains_by_type(domains))[0]["domain"] == "Cancer"
    compared = uptake.indicator_comparison(_countries(EE=4), "deployed", "I_IUAPR")
    chart = charts.indicator_comparison(compared)
    estonia = next(row for row in _data(chart) if row["country"] == "EE")
    assert estonia["deployed"] == 4
    title = " ".join(chart["title"]["text"])
    assert title == "Practices deployed and people accessing personal health records online"


def test_zero_is_the_quietest_colour_of_the_map():
    twinnings = maps.uptake_map(_countries(EE=1, PT=1, FI=3), "twinnings")
    fills = {
        f["properties"]["iso_a2"]: tuple(f["properties"]["fill"][:3])
        for f in _layer(twinnings, maps.COUNTRY_LAYER)["data"]["features"]
    }
    zero = fills["DE"]

    def saturation(colour):
        return (max(colour) - min(colour)) / max(colour)

    def luminance(colour):
        weights = (0.2126, 0.7152, 0.0722)
        return sum(weight * part for weight, part in zip(weights, colour, strict=True))

    for other in maps.PALETTE[1:]:
        assert saturation(zero) < saturation(other)
        assert luminance(zero) > luminance(other)
    assert zero == maps.PALETTE[0] != fills["EE"]
    assert maps.legend(_countries(EE=1), "twinnings").iloc[0].tolist() == ["0", maps._hex(zero)]


def test_the_map_picks_a_country_by_its_fill_alone():
    layer = _layer(maps.uptake_map(_countries(EE=3), "deployed"), maps.COUNTRY_LAYER)
    # Picking the borders as well costs a click 0.7 s of software WebGL: too long for a click.
    assert layer["pickable"] is True
    assert layer["_subLayerProps"] == {"polygons-stroke": {"pickable": False}}


# --- legibility of the chart specifications -----------------------------------------------


def _axes(spec: dict):
    """Every axis of a chart specification, layers included, with its channel."""
    for layer in [spec, *spec.get("layer", [])]:
        for channel, encoding in layer.get("encoding", {}).items():
            if isinstance(encoding, dict) and "axis" in encoding:
                yield channel, encoding


def _profile():
    return pd.DataFrame(
        [["app", 4, 2021, 2], ["service", 3, 2023, 1], ["model", 1, 2023, 1]],
        columns=["practice_type", "maturity", "year", "practices"],
    )


def _every_chart():
    domains = pd.DataFrame(
        [["records-and-access", "Records and access (EHRs, patient portals, data exchange)",
          "service", "Complex solution or service", 5]],
        columns=["health_domain", "domain", "practice_type", "type", "practices"],
    )  # fmt: skip
    flows = pd.DataFrame(
        [["BA", "Bosnia and Herzegovina", "MK", "North Macedonia", n] for n in range(20)],
        columns=["origin", "origin_name", "country", "country_name", "practices"],
    )
    rows = [
        {"criterion": label, "value": 0.5, "weight": 1.0, "contribution": 0.1}
        for label in ("Health domains", "Originator's free capacity", "Similar problem")
    ]
    compared = uptake.indicator_comparison(_countries(EE=4, LV=2), "deployed", "I_IUAPR")
    return {
        "by type": charts.practices_by_type(uptake.by_type(_profile())),
        "by maturity": charts.maturity_distribution(uptake.by_maturity(_profile())),
        "per year": charts.registrations_over_time(uptake.by_year(_profile())),
        "domains": charts.domains_by_type(domains),
        "flows": charts.cross_border_flows(flows),
        "indicator": charts.indicator_comparison(compared),
        "score": charts.score_breakdown(rows),
    }


def test_every_chart_takes_the_width_of_its_container_and_wraps_its_title():
    for name, chart in _every_chart().items():
        spec = chart
        assert spec["width"] == "container", name
        assert spec["autosize"]["type"] == "fit-x", name
        title = spec.get("title")
        if title is not None:
            assert all(len(line) <= charts.TITLE_WIDTH for line in title["text"]), name


def test_category_axes_show_every_label_whole_on_a_band_of_its_own():
    for name, chart in _every_chart().items():
        spec = chart
        for channel, encoding in _axes(spec):
            if encoding["type"] != "nominal":
                continue
            axis = encoding["axis"]
            assert axis["labelLimit"] == 0, (name, channel)  # never "…"
            assert axis["labelOverlap"] is False, (name, channel)  # never hidden
            if channel == "y":
                assert spec["height"]["step"] >= charts.MIN_BAND, name
    flows = _every_chart()["flows"]
    y_axis = flows["encoding"]["y"]["axis"]
    # "Bosnia and Herzegovina → North Macedonia" takes two lines, and a band high enough.
    assert '"Bosnia and Herzegovina \\u2192 North Macedonia": [' in y_axis["labelExpr"]
    assert flows["height"]["step"] >= 2 * charts.LINE_HEIGHT + 8
    assert len(_data(_every_chart()["flows"])) == charts.FLOWS_SHOWN


def test_maturity_bars_name_every_level():
    spec = charts.maturity_distribution(uptake.by_maturity(_profile()))
    assert spec["encoding"]["y"]["field"] == "level"
    assert spec["encoding"]["y"]["sort"] == [
        "1 Concept", "2 Pilot", "3 Deployed", "4 Scaled", "5 Cross-border",
    ]  # fmt: skip


def test_the_score_breakdown_gives_each_criterion_a_bar_of_12_px_or_more():
    spec = _every_chart()["score"]
    assert spec["encoding"]["y"]["field"] == "criterion"
    assert spec["height"]["step"] * 0.9 >= 12  # bars fill 90 % of their band


def test_scatter_labels_never_cover_each_other():
    crowd = ("EE", "LV", "LT", "FI", "SE")
    countries = _countries(**dict.fromkeys(crowd, 10), PT=2)
    compared = uptake.indicator_comparison(countries, "deployed", "I_IUAPR")
    same_spot = compared.frame.assign(I_IUAPR=50.0)
    same_spot.loc[same_spot["country"] == "PT", "I_IUAPR"] = 5.0
    places = {
        row["country"]: row["label_at"]
        for row in _data(charts.indicator_comparison(replace(compared, frame=same_spot)))
    }
    # Five points on one spot: four codes fit around it, the fifth is left to the tooltip.
    assert sorted(places[code] for code in crowd) == ["", "above", "below", "left", "right"]
    assert places["PT"] == "right"
