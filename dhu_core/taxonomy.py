"""Code lists of the platform: one `CodeList` each, accepting a code or a label in any case.

The labels, in every language of the interface, are the rows of data/code_list_labels.csv (the
WHO DHI codes' English labels come from data/who_dhi_classification.csv); `label()` gives the one
of the page being drawn, `labels` the English ones that imports, the API and exports use.
"""

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property

from babel import Locale

from dhu_core import i18n
from dhu_core.config import DATA_DIR

LABELS_FILE = DATA_DIR / "code_list_labels.csv"


@dataclass(frozen=True, eq=False)
class CodeList:
    """An ordered list of codes with English labels (and optional plain-language definitions),
    and the labels and definitions in the interface's other languages."""

    name: str
    labels: dict[str, str]
    definitions: dict[str, str] = field(default_factory=dict)
    #: language -> code -> label, and language -> code -> definition, for languages but English.
    translations: Mapping[str, dict] = field(default_factory=dict)
    translated_definitions: dict[str, dict] = field(default_factory=dict)

    def __contains__(self, code: object) -> bool:
        return code in self.labels

    def __iter__(self):
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def label(self, code: str) -> str:
        """The label of `code` in the page's language, or the code itself when unknown."""
        english = self.labels.get(code, code)
        return self.translations.get(i18n.current(), {}).get(code, english)

    def definition(self, code: str) -> str:
        """The definition of `code` in the page's language ("" when it has none)."""
        english = self.definitions.get(code, "")
        return self.translated_definitions.get(i18n.current(), {}).get(code, english)

    def shown_labels(self) -> dict:
        """Every code with its label in the page's language, in the list's order."""
        return {code: self.label(code) for code in self.labels}

    def normalise(self, value: object) -> str:
        """The code for `value` given as a code or an English label, in any letter case."""
        text = str(value).strip()
        code = self._lookup.get(text.casefold())
        if code is None:
            examples = ", ".join(str(code) for code in list(self.labels)[:6])
            more = ", …" if len(self.labels) > 6 else ""
            raise ValueError(f"unknown {self.name} '{text}' (use one of: {examples}{more})")
        return code

    @cached_property
    def _lookup(self) -> dict:
        table = {str(label).casefold(): code for code, label in self.labels.items()}
        table.update({str(code).casefold(): code for code in self.labels})
        return table


@cache
def _label_rows() -> dict[str, list[dict]]:
    """The rows of the labels file by list name, in the file's order."""
    rows: dict[str, list[dict]] = {}
    with open(LABELS_FILE, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["list"], []).append(row)
    return rows


def _by_language(rows: list[dict], code=str) -> tuple[dict, dict[str, dict]]:
    """English labels and, per other language, the labels of `rows` (an empty or missing cell
    leaves the English label in place; the tests fail on it)."""
    english = {code(row["code"]): row[i18n.DEFAULT] for row in rows}
    others = {
        language: {code(row["code"]): row[language] for row in rows if row.get(language)}
        for language in i18n.LANGUAGES
        if language != i18n.DEFAULT
    }
    return english, others


def _code_list(name: str, *, code=str, definitions: str | None = None) -> CodeList:
    labels, translations = _by_language(_label_rows()[name], code)
    defined, translated_definitions = (
        _by_language(_label_rows()[definitions], code) if definitions else ({}, {})
    )
    return CodeList(name, labels, defined, translations, translated_definitions)


PRACTICE_TYPES = _code_list("practice type")
MATURITY_LEVELS = _code_list("maturity level", code=int, definitions="maturity level definition")
HEALTH_DOMAINS = _code_list("health domain")
STANDARDS = _code_list("standard")
ORGANISATION_TYPES = _code_list("organisation type")
TWINNING_TYPES = _code_list("twinning type")
PRACTICE_STATUSES = _code_list("practice status")
MATCH_STATUSES = _code_list("twinning status")

#: Statuses of a match that count as a twinning (a pair both sides committed to).
TWINNING_STATUSES = ("agreed", "in-transfer", "completed")

#: The milestones of a twinning's work plan, in the order they fall due.
MILESTONE_KINDS = _code_list("milestone")

REPORT_KINDS = _code_list("report")

ROLES = _code_list("role")

#: The official languages of the EU and of the other countries on the map, listed first.
EUROPEAN_LANGUAGES = [
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
    "is",
    "no",
    "nb",
    "nn",
    "lb",
    "sq",
    "bs",
    "sr",
    "mk",
    "ka",
    "uk",
    "tr",
    "ru",
    "ca",
    "eu",
    "gl",
]


def _languages() -> CodeList:
    """Languages by ISO 639-1 code, named in each interface language by Babel's CLDR data (the
    two-letter codes CLDR names are ISO 639-1's; pycountry's list of all 7,900 ISO 639-3
    languages would hold 6.6 MB in every process for them)."""
    english = {c: n for c, n in Locale("en").languages.items() if len(c) == 2 and c.isalpha()}
    codes = list(dict.fromkeys(EUROPEAN_LANGUAGES))
    codes += sorted((c for c in english if c not in codes), key=english.get)
    return CodeList("language", {c: english[c] for c in codes}, translations=_LanguageNames())


class _LanguageNames(Mapping):
    """language -> code -> the name of that language in it, read from Babel's data for each
    interface language when first asked for (1.6 MB each): a process that serves no page in
    German never loads German's names."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = {}
        self._others = tuple(language for language in i18n.LANGUAGES if language != i18n.DEFAULT)

    def __getitem__(self, language: str) -> dict[str, str]:
        if language not in self._others:
            raise KeyError(language)
        if language not in self._names:
            # CLDR writes French, Italian and Spanish language names in lower case.
            names = Locale.parse(language).languages
            self._names[language] = {c: _capitalised(n) for c, n in names.items() if len(c) == 2}
        return self._names[language]

    def __iter__(self) -> Iterator[str]:
        return iter(self._others)

    def __len__(self) -> int:
        return len(self._others)


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


LANGUAGES = _languages()


def _dhi() -> tuple[CodeList, CodeList]:
    with open(DATA_DIR / "who_dhi_classification.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    codes = {r["code"]: r["label"] for r in rows if r["level"] != "group"}
    groups = {r["code"]: r["label"] for r in rows if r["level"] == "group"}
    _, code_translations = _by_language(_label_rows()["WHO DHI code"])
    _, group_translations = _by_language(_label_rows()["WHO DHI group"])
    return (
        CodeList("WHO DHI code", codes, translations=code_translations),
        CodeList("WHO DHI group", groups, translations=group_translations),
    )


#: WHO Classification of Digital Health Interventions v1: categories (x.y) and interventions.
DHI_CODES, DHI_GROUPS = _dhi()


def dhi_group(code: str) -> str:
    """The DHI group (`1.0`…`4.0`) of a category or intervention code."""
    return code.split(".")[0] + ".0"
