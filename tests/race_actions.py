"""The service calls that race in tests/test_races.py, each in its own transaction.

They run in worker processes (see tests/race.py): module-level functions of the engine and the
ids of the rows involved, so that they cross a process boundary by name.
"""

from datetime import date, datetime

from sqlalchemy import Engine

from dhu_core import accounts, claims, db, freshness, live, organisations, practices, twinning
from dhu_core.calls import applications, award, evaluation, follow_up, lessons
from dhu_core.models import CaptureOwner, ClaimCreate, PracticeCreate, PracticeDraft, User


def _actor(session, actor_id: int) -> User:
    return session.get(User, actor_id)


def approve(engine: Engine, *, practice_id: int, actor_id: int) -> None:
    with db.session_scope(engine) as session:
        practices.approve_practice(
            session=session, practice_id=practice_id, actor=_actor(session, actor_id)
        )


def reject(engine: Engine, *, practice_id: int, actor_id: int) -> None:
    with db.session_scope(engine) as session:
        practices.reject_practice(
            session=session,
            practice_id=practice_id,
            actor=_actor(session, actor_id),
            reason="Information incomplete or unclear",
            note="Please describe the evidence.",
        )


def save_draft(engine: Engine, *, practice_id: int, actor_id: int, title: str) -> None:
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session,
            data=PracticeDraft(title=title),
            actor=_actor(session, actor_id),
            practice_id=practice_id,
        )


def submit(engine: Engine, *, practice_id: int, actor_id: int, data: dict) -> None:
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=PracticeCreate(**data),
            actor=_actor(session, actor_id),
            practice_id=practice_id,
        )


def set_match_status(
    engine: Engine, *, match_id: int, actor_id: int, status: str, expected: str
) -> None:
    with db.session_scope(engine) as session:
        twinning.set_match_status(
            session=session,
            actor=_actor(session, actor_id),
            match_id=match_id,
            status=status,
            expected=expected,
        )


def accept_pair(engine: Engine, *, need_id: int, practice_id: int, actor_id: int) -> None:
    with db.session_scope(engine) as session:
        twinning.shortlist(
            session=session,
            actor=_actor(session, actor_id),
            need_id=need_id,
            practice_id=practice_id,
            score=0.8,
            breakdown={"domain": 1.0},
            source="allocation",
        )


def complete_capture(
    engine: Engine, *, practice_id: int, actor_id: int, data: dict, organisation_id: int
) -> None:
    with db.session_scope(engine) as session:
        live.complete_capture(
            session=session,
            actor=_actor(session, actor_id),
            practice_id=practice_id,
            data=PracticeCreate(**data),
            owner=CaptureOwner(organisation_id=organisation_id),
        )


def discard_capture(engine: Engine, *, practice_id: int, actor_id: int) -> None:
    with db.session_scope(engine) as session:
        live.discard_capture(
            session=session, actor=_actor(session, actor_id), practice_id=practice_id
        )


def set_role(
    engine: Engine, *, user_id: int, actor_id: int, role: str, expected: str | None = None
) -> None:
    extra = {} if expected is None else {"expected": expected}
    with db.session_scope(engine) as session:
        accounts.set_role(
            session=session, actor=_actor(session, actor_id), user_id=user_id, role=role, **extra
        )


def disable(engine: Engine, *, user_id: int, actor_id: int) -> None:
    with db.session_scope(engine) as session:
        accounts.set_disabled(
            session=session, actor=_actor(session, actor_id), user_id=user_id, disabled=True
        )


def decide_request(engine: Engine, *, membership_id: int, actor_id: int, approve: bool) -> None:
    with db.session_scope(engine) as session:
        organisations.decide_request(
            session=session,
            actor=_actor(session, actor_id),
            membership_id=membership_id,
            approve=approve,
        )


def confirm_current(engine: Engine, *, practice_id: int, actor_id: int, now: datetime) -> None:
    with db.session_scope(engine) as session:
        freshness.confirm(
            session=session, practice_id=practice_id, actor=_actor(session, actor_id), now=now
        )


def freshness_pass(engine: Engine, *, now: datetime) -> None:
    freshness.run_pass(engine=engine, now=now)


def leave(engine: Engine, *, actor_id: int, successor_id: int) -> None:
    with db.session_scope(engine) as session:
        organisations.leave(
            session=session, actor=_actor(session, actor_id), successor_id=successor_id
        )


def make_claim(engine: Engine, *, practice_id: int, actor_id: int) -> None:
    with db.session_scope(engine) as session:
        claims.make_claim(
            session=session,
            account=_actor(session, actor_id),
            data=ClaimCreate(practice_id=practice_id, role="Head of digital services"),
        )


def decide_claim(engine: Engine, *, claim_id: int, actor_id: int, approve: bool) -> None:
    with db.session_scope(engine) as session:
        claims.decide_claim(
            session=session, actor=_actor(session, actor_id), claim_id=claim_id, approve=approve
        )


def deliver_outbox(engine: Engine, *, smtp_url: str, public_url: str) -> None:
    from dhu_core.config import Settings
    from dhu_core.notifications import delivery

    settings = Settings(dhu_smtp_url=smtp_url, dhu_public_url=public_url)
    delivery.deliver_due(engine, settings=settings)


def submit_application(engine: Engine, *, application_id: int, actor_id: int, now: datetime):
    with db.session_scope(engine) as session:
        applications.submit_application(
            session=session, actor=_actor(session, actor_id), application_id=application_id,
            now=now,
        )  # fmt: skip


def record_consensus(
    engine: Engine,
    *,
    application_id: int,
    actor_id: int,
    scores: dict,
    expected: int | None,
    now: datetime,
) -> None:
    with db.session_scope(engine) as session:
        evaluation.record_consensus(
            session=session, actor=_actor(session, actor_id), application_id=application_id,
            marks={name: evaluation.Mark(score, "Agreed.") for name, score in scores.items()},
            expected_version=expected, now=now,
        )  # fmt: skip


def award_call(engine: Engine, *, call_id: int, actor_id: int, awarded: dict, now: datetime):
    with db.session_scope(engine) as session:
        award.award(
            session=session, actor=_actor(session, actor_id), call_id=call_id,
            awarded=awarded, reserve=[], now=now,
        )  # fmt: skip


def mark_milestone_done(
    engine: Engine, *, milestone_id: int, actor_id: int, version: int, done_on: date
) -> None:
    with db.session_scope(engine) as session:
        follow_up.mark_milestone_done(
            session=session, actor=_actor(session, actor_id), milestone_id=milestone_id,
            done_on=done_on, version=version, today=done_on,
        )  # fmt: skip


def publish_case(engine: Engine, *, match_id: int, actor_id: int, version: int) -> None:
    with db.session_scope(engine) as session:
        lessons.publish_case(
            session=session, actor=_actor(session, actor_id), match_id=match_id, version=version
        )
