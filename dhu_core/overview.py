"""The owner's overview ("My practices"): each practice of the organisation with its status,
freshness, views of its detail page, expressions of interest and twinnings.

Views are counted per practice and day (`PracticeViewDay`): opening a detail page adds one to
that day's row (an upsert), so a popular practice costs one row a day, not one per view. Views
by the practice's own organisation are not counted.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from dhu_core import db, freshness, taxonomy
from dhu_core.accounts import require_role
from dhu_core.models import (
    VISIBLE_STATUSES,
    Interest,
    Practice,
    PracticeRevision,
    PracticeViewDay,
    TwinningMatch,
    User,
    is_listed,
    utcnow,
)

#: The views shown are those of this many days, today included.
VIEW_DAYS = 30
_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def record_view(
    *,
    practice_id: int,
    owner_organisation_id: int,
    viewer: User | None,
    now: datetime | None = None,
    engine: Engine | None = None,
) -> bool:
    """Count one view of a practice's detail page, unless the viewer belongs to its
    organisation; True when counted. One upsert, outside the data version (no cache is
    refreshed by a view)."""
    if viewer is not None and viewer.organisation_id == owner_organisation_id:
        return False
    engine = engine or db.get_engine()
    table = PracticeViewDay.__table__
    upsert = (
        _UPSERT[engine.dialect.name](table)
        .values(practice_id=practice_id, day=(now or utcnow()).date(), views=1)
        .on_conflict_do_update(
            index_elements=[table.c.practice_id, table.c.day],
            set_={"views": table.c.views + 1},
        )
    )
    with db.session_scope(engine, bookkeeping=True) as session:
        session.execute(upsert)
    return True


@dataclass(frozen=True)
class OwnedPractice:
    """One line of "My practices"."""

    id: int
    title: str
    status: str
    last_confirmed_at: datetime | None
    may_be_outdated: bool
    archived_at: datetime | None
    revision_pending: bool
    views: int
    interests: int
    twinnings: int

    @property
    def confirmable(self) -> bool:
        """True when its organisation can confirm it as current (or restore it)."""
        return self.status in VISIBLE_STATUSES


def my_practices(
    *, session: Session, actor: User, now: datetime | None = None
) -> list[OwnedPractice]:
    """The practices of the actor's organisation, most recently changed first, with their
    figures: views in the last `VIEW_DAYS` days, expressions of interest, and twinnings agreed,
    in transfer or completed. Five queries, whatever the number of practices."""
    require_role(actor, "owner", "coordinator", "admin")
    if actor.organisation_id is None:
        return []
    now = now or utcnow()
    practices = session.exec(
        select(Practice)
        .where(Practice.owner_organisation_id == actor.organisation_id)
        .order_by(col(Practice.updated_at).desc(), col(Practice.id).desc())
    ).all()
    ids = [p.id for p in practices]
    views = _counts(
        session,
        select(PracticeViewDay.practice_id, func.sum(PracticeViewDay.views)).where(
            col(PracticeViewDay.practice_id).in_(ids),
            PracticeViewDay.day > now.date() - timedelta(days=VIEW_DAYS),
        ),
        PracticeViewDay.practice_id,
    )
    interests = _counts(
        session,
        select(Interest.practice_id, func.count()).where(col(Interest.practice_id).in_(ids)),
        Interest.practice_id,
    )
    twinnings = _counts(
        session,
        select(TwinningMatch.practice_id, func.count()).where(
            col(TwinningMatch.practice_id).in_(ids),
            col(TwinningMatch.status).in_(taxonomy.TWINNING_STATUSES),
        ),
        TwinningMatch.practice_id,
    )
    pending = set(
        session.exec(
            select(PracticeRevision.practice_id).where(
                col(PracticeRevision.practice_id).in_(ids), PracticeRevision.status == "pending"
            )
        ).all()
    )
    periods = freshness.Periods.configured()
    return [
        OwnedPractice(
            id=p.id,
            title=p.title,
            status=p.status,
            last_confirmed_at=p.last_confirmed_at,
            may_be_outdated=is_listed(p.status)
            and freshness.may_be_outdated(p.last_confirmed_at, now, periods),
            archived_at=p.archived_at,
            revision_pending=p.id in pending,
            views=views.get(p.id, 0),
            interests=interests.get(p.id, 0),
            twinnings=twinnings.get(p.id, 0),
        )
        for p in practices
    ]


def _counts(session: Session, statement, practice_id) -> dict[int, int]:
    return {row[0]: int(row[1]) for row in session.execute(statement.group_by(practice_id))}
