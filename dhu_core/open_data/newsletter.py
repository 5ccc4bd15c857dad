"""A newsletter-ready digest of a period: the practices published, the digests and the spotlights,
as an HTML e-mail body and as Markdown, for coordinators to paste into a newsletter tool.

The HTML comes from an autoescaping Jinja template with inline styles only (mail programs drop
style sheets); the Markdown from a template whose user text passes `md_escape`. Links are
absolute: the newsletter is read far from the app.
"""

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import nh3
from sqlalchemy import Engine, func, select

from dhu_core import db, geo, i18n, knowledge, taxonomy
from dhu_core.accounts import require_role
from dhu_core.config import get_settings, mail_url
from dhu_core.i18n import _
from dhu_core.models import LISTED, Practice, PracticePublic, User, in_utc
from dhu_core.notifications import render
from dhu_core.open_data.links import digest_url, practice_url
from dhu_core.practices import load_public
from dhu_core.text import md_escape

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Practices listed by name; the newsletter counts and links to all of them.
MAX_PRACTICES = 50
#: Characters of a digest or a spotlight analysis quoted before "…".
EXCERPT = 280


@dataclass(frozen=True)
class Newsletter:
    """A newsletter body in HTML and in Markdown, and how many items of each kind it reports."""

    html: str
    markdown: str
    #: practices, digests, spotlights -> how many were published (or featured) in the period.
    counts: dict[str, int]


def compose(
    *,
    actor: User,
    since: date,
    until: date,
    engine: Engine | None = None,
    base_url: str | None = None,
    language: str | None = None,
) -> Newsletter:
    """What was published from `since` to `until` (both days included, UTC) (coordinators).

    Links start with `base_url` (default: DHU_PUBLIC_URL, as in e-mails). It is written in
    `language`, by default the coordinator's page's; its links open the pages in it.
    """
    with i18n.language(language or i18n.current()):
        return _compose(actor=actor, since=since, until=until, engine=engine, base_url=base_url)


def _compose(
    *, actor: User, since: date, until: date, engine: Engine | None, base_url: str | None
) -> Newsletter:
    require_role(actor, *knowledge.COORDINATORS)
    if until < since:
        raise ValueError("the period ends before it starts")
    start = datetime.combine(since, time(), UTC)
    end = datetime.combine(until + timedelta(days=1), time(), UTC)
    base = (base_url or mail_url(get_settings())).rstrip("/")
    practices, practice_count = _published_between(start, end, engine)
    digests = [
        d
        for d in knowledge.published_digests(engine=engine)
        if d.published_at and start <= in_utc(d.published_at) < end
    ]
    spotlights = [
        s for s in knowledge.dated_spotlights(engine=engine) if start <= s.featured_at < end
    ]
    counts = {"practices": practice_count, "digests": len(digests), "spotlights": len(spotlights)}
    context = {
        "period": _period(since, until),
        "counts": counts,
        "more": practice_count - len(practices),
        "catalogue_url": render.with_language(f"{base}/radar?sort=newest"),
        "knowledge_url": render.with_language(f"{base}/knowledge"),
        "url": base,
        "practices": [_practice(p, base) for p in practices],
        "digests": [
            {
                "title": d.title,
                "url": render.with_language(digest_url(base, d.id)),
                "topics": ", ".join(d.topics),
                "excerpt": _excerpt(d.body),
            }
            for d in digests
        ],
        "spotlights": [
            {**_practice(s.practice, base), "excerpt": _excerpt(s.practice.featured_analysis)}
            for s in spotlights
        ],
    }
    return Newsletter(
        html=_environment().get_template("newsletter.html").render(context),
        markdown=_environment().get_template("newsletter.md").render(context),
        counts=counts,
    )


def _published_between(
    start: datetime, end: datetime, engine: Engine | None
) -> tuple[list[PracticePublic], int]:
    """The newest MAX_PRACTICES practices listed and published in [start, end), and how many
    there are."""
    window = (LISTED, Practice.published_at >= start, Practice.published_at < end)
    with db.read_scope(engine) as session:
        count = session.execute(select(func.count()).select_from(Practice).where(*window))
        newest = (
            select(Practice.id)
            .where(*window)
            .order_by(Practice.published_at.desc(), Practice.id.desc())
            .limit(MAX_PRACTICES)
        )
        total = count.scalar_one()
        return load_public(session, list(session.execute(newest).scalars())), total


def _practice(practice: PracticePublic, base_url: str) -> dict[str, Any]:
    return {
        "title": practice.title,
        "url": render.with_language(practice_url(base_url, practice.id)),
        "organisation": practice.owner_organisation,
        "countries": ", ".join(geo.country_name(c) for c in practice.countries),
        "kind": taxonomy.PRACTICE_TYPES.label(practice.practice_type or ""),
        "maturity": taxonomy.MATURITY_LEVELS.label(practice.maturity) if practice.maturity else "",
        "summary": practice.summary,
    }


def _excerpt(markdown: str | None) -> str:
    """The text of a Markdown document, without its markup, cut after EXCERPT characters."""
    text = " ".join(
        html.unescape(nh3.clean(knowledge.render_markdown(markdown), tags=set())).split()
    )
    if len(text) <= EXCERPT:
        return text
    return text[:EXCERPT].rsplit(" ", 1)[0] + " …"


def _period(since: date, until: date) -> str:
    if since == until:
        return i18n.format_date(since, form="long")
    return _("{start} to {end}").format(
        start=i18n.format_date(since, form="long"), end=i18n.format_date(until, form="long")
    )


def _markdown_url(url: str) -> str:
    """A URL that cannot end a Markdown link early or start another one."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")


@cache
def _environment() -> jinja2.Environment:
    # The newsletter's own templates, in the frame of the platform's e-mails; HTML escaped,
    # the Markdown template escapes with the `md` filter.
    environment = render.environment(TEMPLATES, render.TEMPLATES)
    environment.filters["md"] = md_escape
    environment.filters["md_url"] = _markdown_url
    environment.filters["number"] = i18n.format_number
    return environment
