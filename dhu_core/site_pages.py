"""The platform's own pages: About, Help, Data and API, the privacy notice and the accessibility
statement, as Markdown for `knowledge.render_markdown`.

Their texts are the files of data/pages/ (`about.md` in English, `about.de.md` in German, …,
English where a language has none), whose `{{name}}` placeholders are filled here: the
operator's settings escaped for Markdown, the glossaries generated from the code lists. An
operator's own privacy notice or accessibility statement replaces the default text; it is
Markdown like a digest, so it is only ever shown through the same sanitising renderer.
"""

import csv
import logging
import re
from functools import cache
from pathlib import Path
from urllib.parse import quote

from dhu_core import i18n, matching, taxonomy
from dhu_core.config import DATA_DIR, Settings, operator_contact_link
from dhu_core.i18n import _
from dhu_core.text import md_escape

PAGES_DIR = DATA_DIR / "pages"
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

log = logging.getLogger(__name__)


def about(*, settings: Settings) -> str:
    """The About page: the three pillars and who runs this installation."""
    return _filled("about.md", _operator(settings))


def help_page(*, settings: Settings) -> str:
    """Help: finding and registering practices, twinning scores, the glossary."""
    return _filled(
        "help.md",
        {
            **_operator(settings),
            "twinning_criteria": _twinning_criteria(),
            "maturity_levels": _maturity_levels(),
            "dhi_classification": _dhi_classification(),
        },
    )


def privacy_notice(*, settings: Settings) -> str:
    """The operator's privacy notice (DHU_PRIVACY_NOTICE_FILE), else the default one."""
    own = _operator_file(settings.dhu_privacy_notice_file, "DHU_PRIVACY_NOTICE_FILE")
    return own if own is not None else _filled("privacy.md", _operator(settings))


def accessibility_statement(*, settings: Settings) -> str:
    """The operator's accessibility statement (DHU_ACCESSIBILITY_STATEMENT_FILE), else the
    default one."""
    own = _operator_file(
        settings.dhu_accessibility_statement_file, "DHU_ACCESSIBILITY_STATEMENT_FILE"
    )
    return own if own is not None else _filled("accessibility.md", _operator(settings))


def data_and_api(*, settings: Settings, base_path: str, app_url: str) -> str:
    """Data and API: what is open, where, under which licence and limit, with curl examples.

    `base_path` ("" or "/dhu") starts the page's links, which stay on the app's own server;
    `app_url` is the full address the curl examples call.
    """
    # Read this way until the settings of the API and the open data are merged (issue 13).
    licence = settings.dhu_data_licence
    rate_limit = settings.dhu_api_rate_limit
    return _filled(
        "data-and-api.md",
        {
            **_operator(settings),
            "licence": md_escape(licence),
            "rate_limit": str(int(rate_limit)),
            "base": quote(base_path.rstrip("/")),
            # In a code block, where Markdown is not read; a quote would only end the example.
            "app_url": app_url.rstrip("/").replace("'", "%27"),
        },
    )


def _operator(settings: Settings) -> dict[str, str]:
    """The operator's name (for the middle of a sentence) and a sentence on how to reach it.
    While DHU_OPERATOR_NAME is unset the texts say what is true of any installation."""
    name = md_escape(settings.dhu_operator_name) or _("the operator of this installation")
    contact = settings.dhu_operator_contact
    link = operator_contact_link(contact) if contact else None
    return {
        "operator_name": name,
        "operator_contact": (
            _("Contact: {address}.").format(address=f"[{md_escape(contact)}](<{link}>)")
            if link
            else _("No contact address has been given for this installation yet.")
        ),
    }


def _filled(name: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], _text(name, i18n.current()))


@cache
def _text(name: str, language: str) -> str:
    """The text of page `name` ("about.md") in `language`, else in English."""
    translated = PAGES_DIR / name.replace(".md", f".{language}.md")
    path = translated if language != i18n.DEFAULT and translated.exists() else PAGES_DIR / name
    return path.read_text(encoding="utf-8")


def _operator_file(path: Path | None, setting: str) -> str | None:
    """The text of an operator's Markdown file; None (and an error logged) when it cannot be
    read or is empty, so that the default text is shown instead."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        log.error("%s: cannot read %s (%s); the default text is shown", setting, path, error)
        return None
    if not text.strip():
        log.error("%s: %s is empty; the default text is shown", setting, path)
        return None
    return text


def _twinning_criteria() -> str:
    language = i18n.current()
    with open(PAGES_DIR / "twinning_criteria.csv", encoding="utf-8") as f:
        explained = {row["criterion"]: row for row in csv.DictReader(f)}
    rows = []
    for name, english in matching.CRITERIA.items():
        row = explained[name]
        label, means = (
            (english, row["means"])
            if language == i18n.DEFAULT
            else (row[f"label_{language}"], row[f"means_{language}"])
        )
        weight = i18n.format_number(matching.DEFAULT_WEIGHTS[name])
        rows.append(f"| {md_escape(label)} | {md_escape(means)} | {weight} |")
    header = _("| criterion | 1 means | default weight |")
    return "\n".join([header, "|---|---|---|", *rows])


def _maturity_levels() -> str:
    levels = taxonomy.MATURITY_LEVELS
    return "\n".join(
        f"{code}. **{md_escape(levels.label(code))}**: {md_escape(levels.definition(code))}"
        for code in levels
    )


def _dhi_classification() -> str:
    sections = []
    for group in taxonomy.DHI_GROUPS:
        prefix = taxonomy.dhi_group(group).removesuffix("0")
        categories = [
            f"- {code} {md_escape(taxonomy.DHI_CODES.label(code))}"
            for code in taxonomy.DHI_CODES
            if code.startswith(prefix) and code.count(".") == 1
        ]
        label = md_escape(taxonomy.DHI_GROUPS.label(group))
        sections.append("\n".join([f"**{group} {label}**", "", *categories]))
    return "\n\n".join(sections)
