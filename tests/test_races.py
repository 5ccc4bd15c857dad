"""Concurrent decisions on the same row: two processes released together, 40 trials a pair.

Whatever the timing, the final state is valid, every applied change is audited exactly once,
and the loser gets a clear refusal (never a database error), on SQLite and on PostgreSQL.
"""

from collections import Counter

import pytest
from sqlmodel import col, select

from dhu_core import db, freshness
from dhu_core.models import (
    AuditEvent,
    Membership,
    Organisation,
    OutboxMessage,
    Practice,
    PracticeCountry,
    TwinningMatch,
    TwinningNeed,
    User,
    utcnow,
)
from tests.people import account
from tests.race import Outcome

TRIALS = 40

COMPLETE = dict(
    title="Home telemonitoring of heart failure",
    summary="Patients send weight and blood pressure daily; nurses call when values drift.",
    practice_type="service",
    maturity=4,
    countries=["EE"],
    transferable=True,
)


@pytest.fixture
def people(engine):
    """Two coordinators, two administrators and an owner, each with an organisation."""
    with db.session_scope(engine) as session:
        org = Organisation(name="Tartu Clinic", country="EE")
        hub = Organisation(name="Coordination hub", country="BE")
        session.add_all([org, hub])
        session.flush()

        return {
            "org": org.id,
            "hub": hub.id,
            "owner": account(session, "owner", "owner", org.id).id,
            **{
                name: account(session, name, name.rstrip("2"), hub.id).id
                for name in ("coordinator", "coordinator2", "admin", "admin2")
            },
        }


class Tally:
    """The outcomes of all trials of one pair and the rules each trial broke."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.broken: Counter[str] = Counter()
        self.failures: list[str] = []

    def add(self, *outcomes: Outcome) -> None:
        self.counts["trials"] += 1
        self.counts[f"{sum(o.applied for o in outcomes)} applied"] += 1
        for outcome in outcomes:
            self.counts[outcome.kind] += 1
            if outcome.kind == "failed":
                self.failures.append(outcome.message)

    def check(self, rule: str, holds: bool) -> None:
        """Count a trial in which `rule` did not hold."""
        if not holds:
            self.broken[rule] += 1

    def __str__(self) -> str:
        first = f"\nfirst failure:\n{self.failures[0]}" if self.failures else ""
        return f"outcomes {dict(self.counts)}, rules broken {dict(self.broken)}{first}"

    def assert_clean(self) -> None:
        print(self)  # the figures, with `pytest -s`
        assert not self.broken and not self.failures, str(self)


def _events(engine, entity: str, entity_id: int, *actions: str) -> list[AuditEvent]:
    with db.session_scope(engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.entity == entity,
                    AuditEvent.entity_id == entity_id,
                    col(AuditEvent.action).in_(actions),
                )
                .order_by(col(AuditEvent.id))
            ).all()
        )


def _practice(engine, people, status: str, title: str) -> int:
    with db.session_scope(engine) as session:
        practice = Practice(
            **{k: v for k, v in COMPLETE.items() if k not in ("countries", "title")},
            title=title,
            status=status,
            owner_organisation_id=people["org"],
            created_by_id=people["owner"],
        )
        session.add(practice)
        session.flush()
        session.add(PracticeCountry(practice_id=practice.id, country="EE"))
        return practice.id


def _load(engine, model, key):
    with db.session_scope(engine) as session:
        return session.get(model, key)


DECISIONS = ("practice.approved", "practice.rejected")


def _one_applied_and_a_clear_refusal(tally: Tally, outcomes: tuple[Outcome, Outcome]) -> None:
    tally.check("exactly one applied", sum(o.applied for o in outcomes) == 1)
    losers = [o for o in outcomes if not o.applied]
    tally.check(
        "the loser is told what just happened",
        all(o.kind == "refused" and " just " in o.message for o in losers),
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("approve", "reject"), ("approve", "approve"), ("reject", "reject")],
)
def test_two_coordinators_deciding_on_one_practice(engine, racing, people, first, second):
    tally = Tally()
    for trial in range(TRIALS):
        practice_id = _practice(engine, people, "submitted", f"Practice {first}-{second} {trial}")
        outcomes = racing.race(
            (first, {"practice_id": practice_id, "actor_id": people["coordinator"]}),
            (second, {"practice_id": practice_id, "actor_id": people["coordinator2"]}),
        )
        tally.add(*outcomes)
        _one_applied_and_a_clear_refusal(tally, outcomes)
        practice = _load(engine, Practice, practice_id)
        decisions = [e.action for e in _events(engine, "practice", practice_id, *DECISIONS)]
        tally.check(
            "one audit entry per applied decision",
            len(decisions) == sum(o.applied for o in outcomes),
        )
        if practice.status == "published":
            tally.check(
                "published: no rejection reason, a publication date",
                practice.rejection_reason is None and practice.published_at is not None,
            )
            tally.check("the audit says approved", decisions[-1:] == ["practice.approved"])
        else:
            tally.check(
                "rejected: a reason, no publication date",
                practice.status == "rejected"
                and practice.rejection_reason is not None
                and practice.published_at is None,
            )
            tally.check("the audit says rejected", decisions[-1:] == ["practice.rejected"])
    tally.assert_clean()


def test_an_owner_editing_while_a_coordinator_approves(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        practice_id = _practice(engine, people, "submitted", f"Edited practice {trial}")
        outcomes = racing.race(
            ("approve", {"practice_id": practice_id, "actor_id": people["coordinator"]}),
            (
                "save_draft",
                {"practice_id": practice_id, "actor_id": people["owner"], "title": "New title"},
            ),
        )
        tally.add(*outcomes)
        tally.check("exactly one applied", sum(o.applied for o in outcomes) == 1)
        practice = _load(engine, Practice, practice_id)
        if practice.status == "published":
            tally.check(
                "published as reviewed",
                practice.title == f"Edited practice {trial}" and practice.published_at is not None,
            )
        else:
            tally.check(
                "a draft was never published",
                practice.status == "draft" and practice.published_at is None,
            )
    tally.assert_clean()


def _match(engine, people, status: str | None, trial: int) -> tuple[int, int]:
    """A need of the hub and a published practice of the clinic, with a match in `status`."""
    practice_id = _practice(engine, people, "published", f"Transferable practice {trial}")
    with db.session_scope(engine) as session:
        need = TwinningNeed(
            problem_statement="Heart failure patients are readmitted within weeks.",
            country="BE",
            organisation_id=people["hub"],
        )
        session.add(need)
        session.flush()
        if status is None:
            return need.id, practice_id
        match = TwinningMatch(need_id=need.id, practice_id=practice_id, status=status, score=0.7)
        session.add(match)
        session.flush()
        return need.id, match.id


@pytest.mark.parametrize(
    ("start", "first", "second"),
    [("in-transfer", "completed", "declined"), ("suggested", "shortlisted", "shortlisted")],
)
def test_two_coordinators_moving_one_twinning(engine, racing, people, start, first, second):
    tally = Tally()
    for trial in range(TRIALS):
        _, match_id = _match(engine, people, start, trial)
        outcomes = racing.race(
            (
                "set_match_status",
                {
                    "match_id": match_id,
                    "actor_id": people["coordinator"],
                    "status": first,
                    "expected": start,
                },
            ),
            (
                "set_match_status",
                {
                    "match_id": match_id,
                    "actor_id": people["coordinator2"],
                    "status": second,
                    "expected": start,
                },
            ),
        )
        tally.add(*outcomes)
        _one_applied_and_a_clear_refusal(tally, outcomes)
        match = _load(engine, TwinningMatch, match_id)
        changes = _events(engine, "twinning_match", match_id, "twinning.status_changed")
        tally.check(
            "one audited change, from the state it started in to the final state",
            [(e.detail["old"], e.detail["new"]) for e in changes] == [(start, match.status)],
        )
    tally.assert_clean()


def test_two_coordinators_accepting_the_same_allocated_pair(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        need_id, practice_id = _match(engine, people, None, trial)
        task = {"need_id": need_id, "practice_id": practice_id}
        outcomes = racing.race(
            ("accept_pair", {**task, "actor_id": people["coordinator"]}),
            ("accept_pair", {**task, "actor_id": people["coordinator2"]}),
        )
        tally.add(*outcomes)
        with db.session_scope(engine) as session:
            matches = session.exec(
                select(TwinningMatch).where(TwinningMatch.need_id == need_id)
            ).all()
        tally.check("one shortlisted match", [m.status for m in matches] == ["shortlisted"])
        changes = [
            e
            for m in matches
            for e in _events(engine, "twinning_match", m.id, "twinning.status_changed")
        ]
        tally.check("shortlisted once in the audit", len(changes) == 1)
    tally.assert_clean()


def _capture(engine, trial: int) -> int:
    with db.session_scope(engine) as session:
        org = session.exec(
            select(Organisation).where(Organisation.name == "Workshop captures")
        ).first() or Organisation(name="Workshop captures", country="EE")
        session.add(org)
        session.flush()
        practice = Practice(
            title=f"Captured practice {trial}",
            practice_type="app",
            contact_email="someone@example.org",
            owner_organisation_id=org.id,
        )
        session.add(practice)
        session.flush()
        session.add(PracticeCountry(practice_id=practice.id, country="EE"))
        return practice.id


def test_two_coordinators_completing_and_discarding_one_capture(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        practice_id = _capture(engine, trial)
        outcomes = racing.race(
            (
                "complete_capture",
                {
                    "practice_id": practice_id,
                    "actor_id": people["coordinator"],
                    "data": {**COMPLETE, "title": f"Completed capture {trial}"},
                    "organisation_id": people["org"],
                },
            ),
            ("discard_capture", {"practice_id": practice_id, "actor_id": people["coordinator2"]}),
        )
        tally.add(*outcomes)
        _one_applied_and_a_clear_refusal(tally, outcomes)
        practice = _load(engine, Practice, practice_id)
        completed = _events(engine, "practice", practice_id, "practice.capture_completed")
        discarded = _events(engine, "practice", practice_id, "practice.capture_discarded")
        if practice.status == "published":
            tally.check(
                "completed once, not discarded",
                (len(completed), len(discarded)) == (1, 0) and practice.rejection_reason is None,
            )
        else:
            tally.check(
                "discarded once, not completed",
                practice.status == "rejected"
                and practice.published_at is None
                and (len(completed), len(discarded)) == (0, 1),
            )
    tally.assert_clean()


def test_two_administrators_changing_one_role(engine, racing, people):
    tally = Tally()
    for _ in range(TRIALS):
        with db.session_scope(engine) as session:
            session.get(User, people["owner"]).role = "owner"
        before = len(_events(engine, "account", people["owner"], "account.role_changed"))
        task = {"user_id": people["owner"], "expected": "owner"}
        outcomes = racing.race(
            ("set_role", {**task, "actor_id": people["admin"], "role": "coordinator"}),
            ("set_role", {**task, "actor_id": people["admin2"], "role": "admin"}),
        )
        tally.add(*outcomes)
        _one_applied_and_a_clear_refusal(tally, outcomes)
        changes = _events(engine, "account", people["owner"], "account.role_changed")[before:]
        final = _load(engine, User, people["owner"]).role
        tally.check(
            "the audit tells the change from the role it had to the role it has",
            [(e.detail["old"], e.detail["new"]) for e in changes] == [("owner", final)],
        )
    tally.assert_clean()


def test_two_administrators_demoting_each_other_leave_one_administrator(engine, racing, people):
    tally = Tally()
    for _ in range(TRIALS):
        with db.session_scope(engine) as session:
            for key in ("admin", "admin2"):
                session.get(User, people[key]).role = "admin"
        task = {"role": "owner", "expected": "admin"}
        outcomes = racing.race(
            ("set_role", {**task, "user_id": people["admin2"], "actor_id": people["admin"]}),
            ("set_role", {**task, "user_id": people["admin"], "actor_id": people["admin2"]}),
        )
        tally.add(*outcomes)
        tally.check("exactly one applied", sum(o.applied for o in outcomes) == 1)
        with db.session_scope(engine) as session:
            admins = session.exec(
                select(User).where(User.role == "admin", col(User.disabled).is_(False))
            ).all()
        tally.check("an administrator remains", len(admins) == 1)
    tally.assert_clean()


def test_a_member_and_a_coordinator_deciding_one_request_to_join(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        with db.session_scope(engine) as session:
            newcomer = account(session, f"newcomer{trial}")
            request = Membership(
                organisation_id=people["org"], account_id=newcomer.id, status="pending"
            )
            session.add(request)
            session.flush()
            request_id, newcomer_id = request.id, newcomer.id
        task = {"membership_id": request_id}
        outcomes = racing.race(
            ("decide_request", {**task, "actor_id": people["owner"], "approve": True}),
            ("decide_request", {**task, "actor_id": people["coordinator"], "approve": False}),
        )
        tally.add(*outcomes)
        _one_applied_and_a_clear_refusal(tally, outcomes)
        request = _load(engine, Membership, request_id)
        newcomer = _load(engine, User, newcomer_id)
        decisions = _events(
            engine, "membership", request_id, "membership.approved", "membership.declined"
        )
        tally.check("decided once in the audit", len(decisions) == 1)
        tally.check(
            "a member exactly when approved",
            (request.status, newcomer.organisation_id)
            in {("active", people["org"]), ("declined", None)},
        )
    tally.assert_clean()


# --- freshness -----------------------------------------------------------------------------


def _aged(engine, people, trial: int, *, confirmed_months: int, reminded: bool) -> list[int]:
    """Three listed practices of the clinic last confirmed `confirmed_months` ago, their
    organisation reminded two months ago or not at all."""
    now = utcnow()
    ids = [_practice(engine, people, "published", f"Aged {trial}.{n}") for n in range(3)]
    with db.session_scope(engine) as session:
        for practice_id in ids:
            practice = session.get(Practice, practice_id)
            practice.last_confirmed_at = freshness.months_before(now, confirmed_months)
            practice.freshness_reminded_at = freshness.months_before(now, 2) if reminded else None
            session.add(practice)
    return ids


def test_two_freshness_passes_at_once_remind_and_archive_each_practice_once(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS // 2):
        due_reminder = _aged(engine, people, trial, confirmed_months=13, reminded=False)
        due_archive = _aged(engine, people, trial, confirmed_months=19, reminded=True)
        now = utcnow()
        outcomes = racing.race(("freshness_pass", {"now": now}), ("freshness_pass", {"now": now}))
        tally.add(*outcomes)
        tally.check("both passes ran", all(o.applied for o in outcomes))
        for practice_id in due_reminder:
            events = _events(engine, "practice", practice_id, "practice.freshness_reminded")
            tally.check("one reminder each", len(events) == 1)
            tally.check(
                "one e-mail to the one member",
                _outbox(engine, practice_id) == ["owner@example.org"],
            )
        for practice_id in due_archive:
            events = _events(engine, "practice", practice_id, "practice.archived")
            tally.check("archived once", len(events) == 1)
            tally.check("archived", _load(engine, Practice, practice_id).status == "archived")
    tally.assert_clean()


def _outbox(engine, practice_id: int) -> list[str]:
    with db.read_scope(engine) as session:
        messages = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == freshness.REMINDER)
        ).all()
    return [m.recipient for m in messages if m.context["practice_id"] == practice_id]


def test_a_confirmation_racing_the_archiving_pass_leaves_the_practice_listed(
    engine, racing, people
):
    tally = Tally()
    for trial in range(TRIALS):
        practice_id, *_ = _aged(engine, people, trial, confirmed_months=19, reminded=True)
        now = utcnow()
        outcomes = racing.race(
            ("freshness_pass", {"now": now}),
            (
                "confirm_current",
                {"practice_id": practice_id, "actor_id": people["owner"], "now": now},
            ),
        )
        tally.add(*outcomes)
        tally.check("both applied", all(o.applied for o in outcomes))
        practice = _load(engine, Practice, practice_id)
        tally.check(
            "listed, confirmed now",
            practice.status == "published" and practice.last_confirmed_at == now,
        )
        history = [
            e.action
            for e in _events(
                engine, "practice", practice_id, "practice.archived", "practice.restored",
                "practice.confirmed",
            )
        ]  # fmt: skip
        tally.check(
            "confirmed before the pass, or archived and then restored",
            history in (["practice.confirmed"], ["practice.archived", "practice.restored"]),
        )
    tally.assert_clean()


def test_two_confirmations_of_an_archived_practice_restore_it_once(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        practice_id, *_ = _aged(engine, people, trial, confirmed_months=19, reminded=True)
        with db.session_scope(engine) as session:
            freshness.archive_due(session)
        now = utcnow()
        outcomes = racing.race(
            (
                "confirm_current",
                {"practice_id": practice_id, "actor_id": people["owner"], "now": now},
            ),
            (
                "confirm_current",
                {"practice_id": practice_id, "actor_id": people["coordinator"], "now": now},
            ),
        )
        tally.add(*outcomes)
        tally.check("both applied", all(o.applied for o in outcomes))
        tally.check("listed", _load(engine, Practice, practice_id).status == "published")
        restored = _events(engine, "practice", practice_id, "practice.restored")
        confirmed = _events(engine, "practice", practice_id, "practice.confirmed")
        tally.check("restored once, confirmed once", (len(restored), len(confirmed)) == (1, 1))
    tally.assert_clean()
