"""Countries of Europe: ISO codes, EU/EEA membership, population, label points and shapes."""

import csv
import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale

from dhu_core import i18n
from dhu_core.config import DATA_DIR


@dataclass(frozen=True)
class Country:
    """A country of the platform's core list (EU, EFTA, UK, candidates)."""

    iso_a2: str
    iso_a3: str
    name: str
    eu_member: bool
    eea_member: bool
    efta_member: bool
    eu_candidate_status: str
    population: int
    lat: float
    lon: float


@cache
def countries() -> dict[str, Country]:
    """The 42 core countries by ISO 3166-1 alpha-2 code (`XK` for Kosovo), sorted by name."""
    with open(DATA_DIR / "countries.csv", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["name"])
    return {
        r["iso_a2"]: Country(
            iso_a2=r["iso_a2"],
            iso_a3=r["iso_a3"],
            name=r["name"],
            eu_member=r["eu_member"] == "True",
            eea_member=r["eea_member"] == "True",
            efta_member=r["efta_member"] == "True",
            eu_candidate_status=r["eu_candidate_status"],
            population=int(r["population"]),
            lat=float(r["lat"]),
            lon=float(r["lon"]),
        )
        for r in rows
    }


@cache
def country_shapes() -> dict[str, Any]:
    """Country polygons of Europe and its neighbours (Natural Earth, GeoJSON)."""
    with open(DATA_DIR / "europe_countries.geojson", encoding="utf-8") as f:
        return json.load(f)


@cache
def country_names() -> dict[str, str]:
    """English name of every country that can be chosen: the core list and the other shapes on
    the map."""
    names = {
        f["properties"]["iso_a2"]: f["properties"]["name"]
        for f in country_shapes()["features"]
        if f["properties"]["iso_a2"]
    }
    names.update({code: c.name for code, c in countries().items()})
    return dict(sorted(names.items(), key=lambda item: item[1]))


def shown_country_names() -> dict[str, str]:
    """`country_names()` in the page's language, sorted by those names."""
    return _country_names_in(i18n.current())


def country_name(code: str) -> str:
    """The short name of `code` in the page's language, or the code itself when unknown."""
    return shown_country_names().get(code, code)


@cache
def _country_names_in(language: str) -> dict[str, str]:
    if language == i18n.DEFAULT:
        return country_names()
    territories = Locale.parse(language).territories
    names = {code: territories.get(code, name) for code, name in country_names().items()}
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    """Österreich among the O's, Éire among the E's."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def normalise_country(value: object) -> str:
    """The ISO alpha-2 code for a code or an English name in any case; ValueError if unknown."""
    text = str(value).strip()
    upper = text.upper()
    if upper in country_names():
        return upper
    by_name = {name.casefold(): code for code, name in country_names().items()}
    if text.casefold() in by_name:
        return by_name[text.casefold()]
    raise ValueError(f"unknown country '{text}' (use an ISO 3166-1 alpha-2 code such as DE or XK)")
