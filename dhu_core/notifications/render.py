"""Messages from their templates: `templates/<kind>.txt` (subject line, blank line, body) and
`templates/<kind>.html` (the same in HTML, in the platform's colours)."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dhu_core.notifications import kinds

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Rendered:
    """One e-mail as the recipient reads it."""

    subject: str
    text: str
    html: str


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _text(kind: str, variables: dict[str, Any]) -> tuple[str, str]:
    rendered = _environment().get_template(f"{kind}.txt").render(variables)
    subject, _, body = rendered.partition("\n\n")
    return " ".join(subject.split())[:300], body.strip() + "\n"


def subject(kind: str, context: dict[str, Any]) -> str:
    """The subject line of a message of `kind` about `context`; renders the whole message, so
    that a context the templates cannot fill fails in the caller's transaction, not later."""
    return render(kind, context, url="", unsubscribe_url=None).subject


def render(
    kind: str,
    context: dict[str, Any],
    *,
    url: str,
    unsubscribe_url: str | None,
    items: Sequence[Rendered] = (),
) -> Rendered:
    """The message of `kind` about `context`; links start with `url` (the public address).

    `items` are the messages a weekly digest gathers.
    """
    variables = {
        **context,
        "url": url,
        "account_url": f"{url}/account",
        "unsubscribe_url": unsubscribe_url,
        "kind_label": kinds.get(kind).label,
        "items": [
            {"subject": item.subject, "text": item.text, "html": _trusted(item.html)}
            for item in items
        ],
    }
    title, text = _text(kind, variables)
    footer = _environment().get_template("footer.txt").render(variables)
    html = _environment().get_template(f"{kind}.html").render({**variables, "subject": title})
    return Rendered(title, f"{text}\n{footer}", html)


BODY_START, BODY_END = "<!-- body -->", "<!-- /body -->"


def _trusted(html: str) -> Markup:
    """The message's own part of an HTML message rendered here (for a digest gathering several).

    Its user text was escaped when it was rendered, so it is inserted as it is.
    """
    start, end = html.find(BODY_START), html.find(BODY_END)
    part = html[start + len(BODY_START) : end] if start >= 0 and end > start else html
    return Markup(part)  # noqa: S704 (escaped by this module's autoescaping templates)
