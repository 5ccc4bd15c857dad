"""Messages from their templates: `templates/<kind>.txt` (subject line, blank line, body) and
`templates/<kind>.html` (the same in HTML, in the platform's colours).

A message is written in its recipient's language (`render(..., language=)`): the templates mark
their texts with `_()` and `ngettext()` (Jinja's i18n extension, on the interface's gettext
catalogues), and the context's dates, numbers and code-list codes are written here in that
language (see `_shown`). A context stores codes and ISO dates next to the English texts older
messages carry; each is shown in the reader's language when it is there.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from dhu_core import i18n, taxonomy
from dhu_core.i18n import N_, _
from dhu_core.notifications import kinds
from dhu_core.text import lower_first

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Rendered:
    """One e-mail as the recipient reads it."""

    subject: str
    #: The plain-text message, and its own part without the footer (for a digest).
    text: str
    html: str
    body: str = ""


def environment(*folders: Path) -> jinja2.Environment:
    """A Jinja environment for e-mail templates in `folders`: HTML escaped, texts translated
    into the language of the thread (`i18n.language`) through the interface's catalogues."""
    made = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # New-style gettext: in HTML a translated text is trusted, and `.format()` escapes what
    # fills its placeholders. It %-formats every text; the texts use `{placeholders}`, so a
    # "%" in one (a French "70 %") is doubled first.
    made.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n._(message).replace("%", "%%"),
        lambda singular, plural, n: i18n.ngettext(singular, plural, n).replace("%", "%%"),
        newstyle=True,
    )
    made.globals.update(quoted=quoted, strong=strong, link=link, lang=i18n.current)
    return made


@cache
def _environment() -> jinja2.Environment:
    return environment(TEMPLATES)


#: Quotation marks around a title in a plain-text message, by language.
QUOTES = {
    "en": ('"', '"'),
    "de": ("„", "“"),
    "fr": ("« ", " »"),
    "it": ("«", "»"),
    "es": ("«", "»"),
}


def quoted(text: Any) -> str:
    """`text` in the quotation marks of the message's language (plain-text messages)."""
    start, end = QUOTES.get(i18n.current(), QUOTES[i18n.DEFAULT])
    return f"{start}{text}{end}"


def strong(text: Any) -> Markup:
    """`text` escaped and in bold (HTML messages)."""
    return Markup("<strong>{}</strong>").format(text)


def link(href: str, text: Any) -> Markup:
    """A link in the platform's colour (HTML messages)."""
    return Markup('<a href="{}" style="color:#0B6E75;">{}</a>').format(href, text)


def with_language(link: str) -> str:
    """`link` with `lang=<code>` when the message is not in English, so that the page it opens
    is drawn in its reader's language (English is every page's default)."""
    code = i18n.current()
    if code == i18n.DEFAULT or not link:
        return link
    return f"{link}{'&' if urlsplit(link).query else '?'}lang={code}"


#: What an e-mail says for an organisation it cannot name (see `events`).
AN_ORGANISATION = N_("an organisation")
#: context key of an ISO date or time -> the key the templates show it as, and whether it has
#: a time of day (always UTC).
DATES = {
    "expires_at": ("expires", True),
    "expires_on": ("expires", False),
    "closes_at": ("closes", True),
    "last_confirmed_on": ("last_confirmed", False),
    "archived_on": ("archive_on", False),
}


def written_date(value: str, *, with_time: bool) -> str | None:
    """An ISO date or UTC time as the message's language writes it; None if it is none."""
    try:
        moment = datetime.fromisoformat(value) if with_time else date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    day = i18n.format_date(moment, form="long")
    if not with_time or not isinstance(moment, datetime):
        return day
    return _("{day}, {time} UTC").format(day=day, time=f"{moment:%H:%M}")


def _number(value: Any, decimals: int | None = None) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return i18n.format_number(value, decimals=decimals)


def _status(code: str) -> str:
    label = taxonomy.MATCH_STATUSES.label(code)
    # Within a sentence; German nouns keep their capital.
    return label if i18n.current() == "de" else lower_first(label)


def _shown(context: dict[str, Any]) -> dict[str, Any]:
    """The context as the templates show it in the message's language: dates, numbers and
    code-list labels written in it, where the context has them as ISO dates, numbers, codes."""
    shown = dict(context)
    for key, (target, with_time) in DATES.items():
        if key in context and (written := written_date(context[key], with_time=with_time)):
            shown[target] = written
    for key in ("organisation", "need_organisation", "sender_organisation"):
        if context.get(key) == AN_ORGANISATION:
            shown[key] = _(AN_ORGANISATION)
    for key in ("status", "old_status"):
        if f"{key}_code" in context:
            shown[key] = _status(context[f"{key}_code"])
    if "role_code" in context:
        shown["role"] = taxonomy.ROLES.label(context["role_code"])
    if "outcome" in context:
        shown["outcome"] = _(context["outcome"]) if context["outcome"] else ""
    if context.get("grant_amount"):
        shown["grant"] = f"{_number(context['grant_amount'])} {context.get('currency', '')}".strip()
    if isinstance(context.get("total_score"), int | float):
        shown["total"] = _number(context["total_score"], 1)
    if isinstance(context.get("scores"), list):
        shown["scores"] = [
            {**item, "score": _number(item.get("score"))} if isinstance(item, dict) else item
            for item in context["scores"]
        ]
    return shown


def _text(kind: str, variables: dict[str, Any]) -> tuple[str, str]:
    rendered = _environment().get_template(f"{kind}.txt").render(variables)
    subject, _, body = rendered.partition("\n\n")
    return " ".join(subject.split())[:300], body.strip() + "\n"


def subject(kind: str, context: dict[str, Any], *, language: str = i18n.DEFAULT) -> str:
    """The subject line of a message of `kind` about `context`; renders the whole message, so
    that a context the templates cannot fill fails in the caller's transaction, not later."""
    missing = [key for key in kinds.get(kind).needs if key not in context]
    if missing:
        raise ValueError(f"a {kind} message needs {', '.join(missing)} in its context")
    return render(kind, context, url="", unsubscribe_url=None, language=language).subject


def render(
    kind: str,
    context: dict[str, Any],
    *,
    url: str,
    unsubscribe_url: str | None,
    items: Sequence[Rendered] = (),
    language: str = i18n.DEFAULT,
) -> Rendered:
    """The message of `kind` about `context` in `language`, whichever the thread's is; links
    start with `url` (the public address) and open the pages in `language`.

    `items` are the messages a weekly digest gathers (rendered in the same language).
    """
    with i18n.language(language):
        variables = {
            **_shown(context),
            "kind": kind,
            "url": url,
            "page": lambda path: with_language(f"{url}{path}"),
            "account_url": with_language(f"{url}/account"),
            "unsubscribe_url": unsubscribe_url and with_language(unsubscribe_url),
            "kind_label": _(kinds.get(kind).label),
            "items": [
                {"subject": item.subject, "text": item.body, "html": _trusted(item.html)}
                for item in items
            ],
        }
        title, text = _text(kind, variables)
        footer = _environment().get_template("footer.txt").render(variables)
        html = _environment().get_template(f"{kind}.html").render({**variables, "subject": title})
    return Rendered(title, f"{text}\n{footer}", html, body=text)


BODY_START, BODY_END = "<!-- body -->", "<!-- /body -->"


def _trusted(html: str) -> Markup:
    """The message's own part of an HTML message rendered here (for a digest gathering several).

    Its user text was escaped when it was rendered, so it is inserted as it is.
    """
    start, end = html.find(BODY_START), html.find(BODY_END)
    part = html[start + len(BODY_START) : end] if start >= 0 and end > start else html
    return Markup(part)  # noqa: S704 (escaped by this module's autoescaping templates)
