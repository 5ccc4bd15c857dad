"""Knowledge community: digests on priority topics, spotlights on mature practices, safe Markdown.

Digests and spotlight analyses are written in Markdown by coordinators and shown to everybody,
so they are only ever shown as the output of `render_markdown`: raw HTML is not parsed, and the
resulting HTML passes an allow-list sanitiser (nh3) as a second line of defence.
"""

from dataclasses import dataclass
from datetime import datetime

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from dhu_core import audit, db
from dhu_core.accounts import require_role
from dhu_core.i18n import _
from dhu_core.models import (
    LISTED,
    AuditEvent,
    Digest,
    DigestInput,
    DigestPractice,
    DigestTopic,
    FieldError,
    Practice,
    PracticePublic,
    SpotlightInput,
    User,
    in_utc,
    is_listed,
    utcnow,
)
from dhu_core.practices import load_public

COORDINATORS = ("coordinator", "admin")
#: The lowest maturity a spotlight may show: 3, deployed in routine use.
SPOTLIGHT_MATURITY = 3

# --- safe Markdown -----------------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
# No <img>: a picture from another server would be fetched by every reader's browser.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
#: Code and tables wider than a phone scroll sideways in their own box (app.css): in the tab
#: order, a keyboard can scroll them too (WCAG 2.1.1; axe's scrollable-region-focusable).
KEYBOARD_SCROLLED = {"pre": {"tabindex": "0"}, "table": {"tabindex": "0"}}


def render_markdown(text: str | None) -> str:
    """Markdown as sanitised HTML: no raw HTML, scripts, frames, event handlers or unsafe links."""
    return nh3.clean(
        _MARKDOWN.render(text or ""),
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}, **KEYBOARD_SCROLLED},
    )


# --- digests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestView:
    """A digest with its topics, author and linked practices (published ones only)."""

    id: int
    title: str
    body: str
    status: str
    topics: list[str]
    practice_ids: list[int]
    author: str | None
    created_at: datetime
    published_at: datetime | None
    #: The language it is written in (ISO 639-1).
    language: str = "en"


def published_digests(
    *, topic: str | None = None, text: str = "", engine: Engine | None = None
) -> list[DigestView]:
    """Published digests, newest first, with `topic` and every word of `text` (any case)."""
    with db.read_scope(engine) as session:
        query = select(Digest).where(Digest.status == "published")
        if topic:
            query = query.where(
                col(Digest.id).in_(select(DigestTopic.digest_id).where(DigestTopic.topic == topic))
            )
        digests = _views(session, session.exec(query).all())
    words = text.casefold().split()
    found = [
        d
        for d in digests
        if all(w in f"{d.title} {d.body} {' '.join(d.topics)}".casefold() for w in words)
    ]
    return sorted(found, key=lambda d: (d.published_at, d.id), reverse=True)


def published_digest(digest_id: int, *, engine: Engine | None = None) -> DigestView | None:
    """The published digest `digest_id`, or None (a draft is not shown to the public)."""
    with db.read_scope(engine) as session:
        digest = session.get(Digest, digest_id)
        if digest is None or digest.status != "published":
            return None
        return _views(session, [digest])[0]


def digest_topics(*, engine: Engine | None = None) -> dict[str, int]:
    """Topic -> number of published digests, most used first."""
    with db.read_scope(engine) as session:
        rows = session.exec(
            select(DigestTopic.topic, func.count())
            .join(Digest, col(Digest.id) == DigestTopic.digest_id)
            .where(Digest.status == "published")
            .group_by(DigestTopic.topic)
        ).all()
    return dict(sorted(rows, key=lambda row: (-row[1], row[0])))


def linked_practices(ids: list[int], *, engine: Engine | None = None) -> list[PracticePublic]:
    """The published practices among `ids`, in that order."""
    with db.read_scope(engine) as session:
        published = set(
            session.exec(select(Practice.id).where(col(Practice.id).in_(ids), LISTED)).all()
        )
        return load_public(session, [i for i in ids if i in published])


def all_digests(*, session: Session, actor: User) -> list[DigestView]:
    """Every digest, drafts included, most recently created first (coordinators)."""
    require_role(actor, *COORDINATORS)
    digests = session.exec(select(Digest).order_by(col(Digest.created_at).desc())).all()
    return _views(session, digests)


def save_digest(
    *, session: Session, actor: User, data: DigestInput, digest_id: int | None = None
) -> Digest:
    """Create or change a digest (coordinators); a new one starts as a draft."""
    require_role(actor, *COORDINATORS)
    _check_published(session, data.practice_ids)
    digest = _get(session, digest_id, lock=True) if digest_id else Digest(author_id=actor.id)
    digest.title, digest.body, digest.language = data.title, data.body, data.language
    session.add(digest)
    session.flush()
    for model in (DigestTopic, DigestPractice):
        for row in session.exec(select(model).where(model.digest_id == digest.id)):
            session.delete(row)
    session.flush()
    session.add_all(DigestTopic(digest_id=digest.id, topic=topic) for topic in data.topics)
    session.add_all(
        DigestPractice(digest_id=digest.id, practice_id=practice_id)
        for practice_id in data.practice_ids
    )
    action = "digest.changed" if digest_id else "digest.created"
    audit.record(session, actor, action, "digest", digest.id)
    return digest


def publish_digest(*, session: Session, actor: User, digest_id: int) -> Digest:
    """Make a digest visible to everybody (coordinators)."""
    require_role(actor, *COORDINATORS)
    digest = _get(session, digest_id, lock=True)
    if digest.status == "published":
        raise audit.conflict(
            session,
            "digest",
            digest.id,
            said=_(
                "This digest was just published by {who}. Reload the page to see it as it is now."
            ),
        )
    digest.status = "published"
    digest.published_at = digest.published_at or utcnow()
    session.add(digest)
    audit.record(session, actor, "digest.published", "digest", digest.id)
    return digest


def _check_published(session: Session, ids: list[int]) -> None:
    published = set(
        session.exec(select(Practice.id).where(col(Practice.id).in_(ids), LISTED)).all()
    )
    if set(ids) - published:
        raise FieldError("practice_ids", _("link only published practices"))


def _get(session: Session, digest_id: int, *, lock: bool = False) -> Digest:
    digest = (
        db.get_for_update(session, Digest, digest_id) if lock else session.get(Digest, digest_id)
    )
    if digest is None:
        raise LookupError(_("no digest with id {id}").format(id=digest_id))
    return digest


def _views(session: Session, digests: list[Digest]) -> list[DigestView]:
    ids = [d.id for d in digests]
    topics: dict[int, list[str]] = {i: [] for i in ids}
    for digest_id, topic in session.exec(
        select(DigestTopic.digest_id, DigestTopic.topic)
        .where(col(DigestTopic.digest_id).in_(ids))
        .order_by(DigestTopic.topic)
    ):
        topics[digest_id].append(topic)
    links: dict[int, list[int]] = {i: [] for i in ids}
    for digest_id, practice_id in session.exec(
        select(DigestPractice.digest_id, DigestPractice.practice_id)
        .where(col(DigestPractice.digest_id).in_(ids))
        .order_by(DigestPractice.practice_id)
    ):
        links[digest_id].append(practice_id)
    authors = dict(
        session.exec(
            select(User.id, User.display_name).where(
                col(User.id).in_({d.author_id for d in digests})
            )
        ).all()
    )
    return [
        DigestView(
            id=d.id,
            title=d.title,
            body=d.body,
            status=d.status,
            topics=topics[d.id],
            practice_ids=links[d.id],
            author=authors.get(d.author_id),
            created_at=d.created_at,
            published_at=d.published_at,
            language=d.language,
        )
        for d in digests
    ]


# --- spotlights on mature practices ------------------------------------------------------


def spotlights(*, engine: Engine | None = None) -> list[PracticePublic]:
    """Featured published practices, the most mature first."""
    with db.read_scope(engine) as session:
        ids = session.exec(
            select(Practice.id)
            .where(col(Practice.featured), LISTED)
            .order_by(col(Practice.maturity).desc(), col(Practice.published_at).desc())
        ).all()
        return load_public(session, list(ids))


@dataclass(frozen=True)
class DatedSpotlight:
    """A practice in the spotlight, with when it was last put there."""

    practice: PracticePublic
    featured_at: datetime


def dated_spotlights(*, engine: Engine | None = None) -> list[DatedSpotlight]:
    """The spotlights, most recently featured first (for feeds and newsletters).

    The time is that of the last `practice.featured` event; a practice featured without one
    (the demo data) counts from its publication.
    """
    with db.read_scope(engine) as session:
        ids = list(session.exec(select(Practice.id).where(col(Practice.featured), LISTED)).all())
        featured = dict(
            session.exec(
                select(AuditEvent.entity_id, func.max(AuditEvent.at))
                .where(
                    AuditEvent.entity == "practice",
                    AuditEvent.action == "practice.featured",
                    col(AuditEvent.entity_id).in_(ids),
                )
                .group_by(AuditEvent.entity_id)
            ).all()
        )
        dated = [
            DatedSpotlight(p, in_utc(featured.get(p.id) or p.published_at or p.created_at))
            for p in load_public(session, ids)
        ]
    return sorted(dated, key=lambda s: (s.featured_at, s.practice.id), reverse=True)


def feature_practice(*, session: Session, actor: User, data: SpotlightInput) -> Practice:
    """Put a published, mature practice in the spotlight with an analysis (coordinators)."""
    require_role(actor, *COORDINATORS)
    practice = db.get_for_update(session, Practice, data.practice_id)
    if (
        practice is None
        or not is_listed(practice.status)
        or (practice.maturity or 0) < SPOTLIGHT_MATURITY
    ):
        raise FieldError(
            "practice_id", _("choose a published practice at maturity 3 (deployed) or higher")
        )
    practice.featured = True
    practice.featured_analysis = data.analysis
    session.add(practice)
    audit.record(session, actor, "practice.featured", "practice", practice.id)
    return practice


def unfeature_practice(*, session: Session, actor: User, practice_id: int) -> Practice:
    """Take a practice out of the spotlight (coordinators)."""
    require_role(actor, *COORDINATORS)
    practice = db.get_for_update(session, Practice, practice_id)
    if practice is None:
        raise LookupError(_("no practice with id {id}").format(id=practice_id))
    if not practice.featured:
        raise audit.conflict(
            session,
            "practice",
            practice.id,
            said=_(
                "This practice was just taken out of the spotlights by {who}. Reload the page to "
                "see it as it is now."
            ),
        )
    practice.featured = False
    practice.featured_analysis = None
    session.add(practice)
    audit.record(session, actor, "practice.unfeatured", "practice", practice.id)
    return practice
