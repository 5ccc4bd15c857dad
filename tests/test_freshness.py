"""Freshness: last confirmed, reminders, archiving and restoring, with the clock moved (both
databases); the owner's overview and its view counter."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import col, select

from dhu_core import (
    catalogue,
    db,
    exchange,
    freshness,
    jobs,
    matching,
    overview,
    practices,
    similarity,
    uptake,
)
from dhu_core.accounts import PermissionDenied
from dhu_core.catalogue import CatalogueQuery
from dhu_core.config import get_settings
from dhu_core.models import (
    AuditEvent,
    InterestCreate,
    Membership,
    Organisation,
    OutboxMessage,
    Practice,
    PracticeCreate,
    PracticeViewDay,
    StateConflict,
    TwinningMatch,
    TwinningNeed,
    utcnow,
)
from tests.people import account

COMPLETE = dict(
    summary="Patients send weight and blood pressure daily; nurses call when values drift.",
    practice_type="service",
    maturity=4,
    countries=["EE"],
    health_domains=["cardiovascular"],
    transferable=True,
)


@pytest.fixture
def team(engine):
    """An owner organisation with two members, another organisation, and a coordinator."""
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tallinn Clinic", country="EE")
        lab = Organisation(name="Porto Lab", country="PT")
        session.add_all([clinic, lab])
        session.flush()
        return {
            "clinic": clinic.id,
            "lab": lab.id,
            "owner": account(session, "owner", "owner", clinic.id),
            "colleague": account(session, "colleague", "owner", clinic.id),
            "stranger": account(session, "stranger", "owner", lab.id),
            "coordinator": account(session, "coordinator", "coordinator", lab.id),
        }


def _publish(engine, team, title: str) -> int:
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(
            session=session,
            data=PracticeCreate(title=title, **COMPLETE),
            actor=team["owner"],
        )
        practices.approve_practice(
            session=session, practice_id=practice.id, actor=team["coordinator"]
        )
        return practice.id


def _get(engine, practice_id: int) -> Practice:
    with db.read_scope(engine) as session:
        return session.get(Practice, practice_id)


def _confirm(engine, practice_id: int, actor, now=None) -> Practice:
    with db.session_scope(engine) as session:
        return freshness.confirm(session=session, practice_id=practice_id, actor=actor, now=now)


def _catalogue(engine, now, **query) -> list[int]:
    page = catalogue.search(CatalogueQuery(page_size=100, **query), engine=engine, now=now)
    return sorted(p.id for p in page.practices)


def _on_the_map(engine) -> int:
    countries = uptake.country_uptake(uptake.UptakeFilters(), engine=engine)
    return int(countries.loc[countries["country"] == "EE", "deployed"].iloc[0])


def _open_for_twinning(engine) -> list[int]:
    return [p.id for p in matching.MatchingIndex.build(engine).practices]


def _actions(engine, practice_id: int) -> list[str]:
    with db.read_scope(engine) as session:
        return list(
            session.exec(
                select(AuditEvent.action)
                .where(AuditEvent.entity == "practice", AuditEvent.entity_id == practice_id)
                .order_by(col(AuditEvent.id))
            ).all()
        )


def _reminders(engine) -> list[tuple[int, str]]:
    """(practice, recipient) of every freshness reminder in the outbox."""
    with db.read_scope(engine) as session:
        messages = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == freshness.REMINDER)
        ).all()
    return sorted((m.context["practice_id"], m.recipient) for m in messages)


def months_later(months: int):
    """A moment just past `months` from now (two days: the badge changes at midnight, and a
    month's last day can come back one day early)."""
    return freshness.months_before(utcnow(), -months) + timedelta(days=2)


def test_publication_and_an_approved_edit_set_the_last_confirmation(engine, team):
    before = utcnow()
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    first = _get(engine, practice_id).last_confirmed_at
    assert first >= before
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=PracticeCreate(title="Heart failure telemonitoring at home", **COMPLETE),
            actor=team["owner"],
            practice_id=practice_id,
        )
    assert _get(engine, practice_id).last_confirmed_at == first  # waiting for review
    with db.session_scope(engine) as session:
        practices.approve_practice(
            session=session, practice_id=practice_id, actor=team["coordinator"]
        )
    assert _get(engine, practice_id).last_confirmed_at > first


def test_reminded_at_12_months_archived_at_18_hidden_everywhere_and_back_on_confirmation(
    engine, team
):
    stale = _publish(engine, team, "Heart failure telemonitoring")
    kept = _publish(engine, team, "Cardiac rehabilitation at home")
    both = sorted([stale, kept])
    assert _catalogue(engine, utcnow()) == both
    assert _on_the_map(engine) == 2
    assert _open_for_twinning(engine) == both

    at_11 = months_later(11)
    assert freshness.run_pass(engine=engine, now=at_11) == freshness.PassResult([], [])
    assert _catalogue(engine, at_11, freshness="outdated") == []

    at_12 = months_later(12)
    assert freshness.run_pass(engine=engine, now=at_12) == freshness.PassResult(both, [])
    assert freshness.run_pass(engine=engine, now=at_12) == freshness.PassResult([], [])
    assert _reminders(engine) == sorted(
        (practice_id, person)
        for practice_id in both
        for person in ("colleague@example.org", "owner@example.org")
    )
    assert _catalogue(engine, at_12, freshness="outdated") == both
    assert _catalogue(engine, at_12, freshness="current") == []
    facets = catalogue.search(CatalogueQuery(), engine=engine, now=at_12).facets
    assert facets["freshness"] == {"outdated": 2}
    assert freshness.may_be_outdated(_get(engine, stale).last_confirmed_at, at_12)

    at_17 = months_later(17)
    _confirm(engine, kept, team["colleague"], now=at_17)
    assert freshness.run_pass(engine=engine, now=at_17) == freshness.PassResult([], [])

    at_18 = months_later(18)
    assert freshness.run_pass(engine=engine, now=at_18) == freshness.PassResult([], [stale])
    assert freshness.run_pass(engine=engine, now=at_18) == freshness.PassResult([], [])
    archived = _get(engine, stale)
    assert (archived.status, archived.archived_at) == ("archived", at_18)
    assert _catalogue(engine, at_18) == [kept]
    assert _catalogue(engine, at_18, text="telemonitoring") == []
    assert catalogue.matching_ids(CatalogueQuery(), engine=engine, now=at_18) == [kept]
    assert _on_the_map(engine) == 1
    assert uptake.headline_figures(engine).published_practices == 1
    assert _open_for_twinning(engine) == [kept]
    assert similarity.SimilarityIndex.build(engine=engine).similar_to_practice(stale) == []
    shown = practices.public_practice(practice_id=stale, engine=engine)
    assert shown.status == "archived"  # still reachable by its address
    assert _actions(engine, stale)[-2:] == ["practice.freshness_reminded", "practice.archived"]

    at_19 = months_later(19)
    restored = _confirm(engine, stale, team["owner"], now=at_19)
    assert (restored.status, restored.archived_at, restored.last_confirmed_at) == (
        "published",
        None,
        at_19,
    )
    assert _catalogue(engine, at_19) == both
    assert _catalogue(engine, at_19, freshness="current") == both
    assert _on_the_map(engine) == 2
    assert _open_for_twinning(engine) == both
    assert _actions(engine, stale)[-1] == "practice.restored"


def test_a_practice_first_found_long_outdated_gets_its_reminder_before_it_is_archived(engine, team):
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    at_24 = months_later(24)
    assert freshness.run_pass(engine=engine, now=at_24) == freshness.PassResult([practice_id], [])
    assert freshness.run_pass(engine=engine, now=at_24 + timedelta(days=29)).archived == []
    later = at_24 + timedelta(days=30)
    assert freshness.run_pass(engine=engine, now=later).archived == [practice_id]


def test_dhu_run_jobs_reminds_and_archives_before_it_delivers(engine, team, monkeypatch):
    monkeypatch.delenv("DHU_SMTP_URL", raising=False)
    get_settings.cache_clear()
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    outcomes = jobs.run_once(engine, now=months_later(12))
    names = [outcome.name for outcome in outcomes]
    assert names.index("freshness reminders and archiving") < names.index("deliver e-mail")
    assert outcomes[names.index("freshness reminders and archiving")].summary == (
        "reminded 1 practice, archived 0 practices"
    )
    assert [p for p, _ in _reminders(engine)] == [practice_id, practice_id]
    outcomes = jobs.run_once(engine, now=months_later(18))
    assert all(outcome.ok for outcome in outcomes)
    assert _get(engine, practice_id).status == "archived"


def test_an_edit_approved_after_archiving_lists_the_practice_again(engine, team):
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=PracticeCreate(title="Heart failure telemonitoring at home", **COMPLETE),
            actor=team["owner"],
            practice_id=practice_id,
        )
    freshness.run_pass(engine=engine, now=months_later(12))
    assert freshness.run_pass(engine=engine, now=months_later(18)).archived == [practice_id]
    with db.session_scope(engine) as session:
        practices.approve_practice(
            session=session, practice_id=practice_id, actor=team["coordinator"]
        )
    practice = _get(engine, practice_id)
    assert (practice.status, practice.archived_at) == ("published", None)
    assert practice.title == "Heart failure telemonitoring at home"


def test_the_pass_reminds_in_batches_each_practice_once(engine, team, monkeypatch):
    monkeypatch.setattr(freshness, "REMINDER_BATCH", 2)
    ids = [_publish(engine, team, f"Heart failure telemonitoring {n}") for n in range(5)]
    with db.session_scope(engine) as session:
        assert freshness.remind_due(session, months_later(12), limit=2) == ids[:2]
    assert freshness.run_pass(engine=engine, now=months_later(12)).reminded == ids[2:]
    assert [p for p, _ in _reminders(engine)] == [p for p in ids for _ in range(2)]


def test_a_confirmation_after_the_reminder_spends_it(engine, team):
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    freshness.run_pass(engine=engine, now=months_later(12))
    _confirm(engine, practice_id, team["owner"], now=months_later(13))
    assert freshness.run_pass(engine=engine, now=months_later(20)) == freshness.PassResult([], [])
    assert freshness.run_pass(engine=engine, now=months_later(26)).reminded == [practice_id]
    assert len(_reminders(engine)) == 4  # two members, reminded twice


def test_only_members_of_its_organisation_and_coordinators_confirm_a_practice(engine, team):
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    with pytest.raises(PermissionDenied):
        _confirm(engine, practice_id, team["stranger"])
    with db.session_scope(engine) as session:
        left = session.exec(
            select(Membership).where(Membership.account_id == team["colleague"].id)
        ).one()
        left.status = "left"
        session.add(left)
    with pytest.raises(PermissionDenied):
        _confirm(engine, practice_id, team["colleague"])  # no longer a member
    assert _actions(engine, practice_id).count("practice.confirmed") == 0
    _confirm(engine, practice_id, team["coordinator"])
    _confirm(engine, practice_id, team["owner"])
    assert _actions(engine, practice_id).count("practice.confirmed") == 2


def test_a_draft_cannot_be_confirmed_as_current(engine, team):
    with db.session_scope(engine) as session:
        draft = practices.submit_practice(
            session=session, data=PracticeCreate(title="Draft", **COMPLETE), actor=team["owner"]
        )
    with pytest.raises(StateConflict, match="submitted"):
        _confirm(engine, draft.id, team["owner"])


def test_the_periods_are_settings(engine, team, monkeypatch):
    monkeypatch.setenv("DHU_FRESHNESS_REMINDER_MONTHS", "3")
    monkeypatch.setenv("DHU_FRESHNESS_ARCHIVE_MONTHS", "4")
    get_settings.cache_clear()
    try:
        practice_id = _publish(engine, team, "Heart failure telemonitoring")
        assert freshness.run_pass(engine=engine, now=months_later(3)).reminded == [practice_id]
        assert freshness.run_pass(engine=engine, now=months_later(4)).archived == [practice_id]
        monkeypatch.setenv("DHU_FRESHNESS_ARCHIVE_MONTHS", "3")
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="DHU_FRESHNESS_ARCHIVE_MONTHS must be more"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_the_freshness_filter_lives_in_the_url():
    query = CatalogueQuery.from_params({"freshness": "Outdated", "q": "heart"})
    assert query.freshness == "outdated"
    assert query.to_params() == {"q": "heart", "freshness": "outdated"}
    assert CatalogueQuery.from_params({"freshness": "stale"}).freshness is None


def test_months_before_keeps_the_day_or_takes_the_last_of_a_shorter_month():
    moment = utcnow().replace(year=2026, month=3, day=31, hour=9)
    assert freshness.months_before(moment, 1).date().isoformat() == "2026-02-28"
    assert freshness.months_before(moment, 12).date().isoformat() == "2025-03-31"
    assert freshness.months_before(moment, -18).date().isoformat() == "2027-09-30"


# --- the owner's overview ------------------------------------------------------------------


def test_views_are_one_counter_row_a_day_and_the_organisation_own_views_do_not_count(engine, team):
    practice_id = _publish(engine, team, "Heart failure telemonitoring")
    version = db.data_version(engine)
    today = utcnow()

    def view(viewer, now=today):
        return overview.record_view(
            practice_id=practice_id,
            owner_organisation_id=team["clinic"],
            viewer=viewer,
            now=now,
            engine=engine,
        )

    assert [view(None), view(team["stranger"]), view(None)] == [True, True, True]
    assert view(team["colleague"]) is False
    view(None, now=today - timedelta(days=29))
    view(None, now=today - timedelta(days=30))  # outside the 30 days
    with db.read_scope(engine) as session:
        rows = session.exec(select(PracticeViewDay.views).order_by(PracticeViewDay.day)).all()
    assert rows == [1, 1, 3]
    assert db.data_version(engine) == version  # a view refreshes no cache
    with db.read_scope(engine) as session:
        (line,) = overview.my_practices(session=session, actor=team["owner"], now=today)
    assert (line.id, line.views, line.status, line.may_be_outdated) == (
        practice_id,
        4,
        "published",
        False,
    )


def test_my_practices_counts_interests_and_twinnings_and_shows_freshness(engine, team):
    listed = _publish(engine, team, "Heart failure telemonitoring")
    archived = _publish(engine, team, "Cardiac rehabilitation at home")
    with db.session_scope(engine) as session:
        exchange.express_interest(
            session=session,
            actor=team["stranger"],
            data=InterestCreate(practice_id=listed, text="We would like to learn how it works."),
        )
        need = TwinningNeed(
            organisation_id=team["lab"], problem_statement="Heart failure at home", country="PT"
        )
        session.add(need)
        session.flush()
        session.add_all(
            [
                TwinningMatch(need_id=need.id, practice_id=listed, status="agreed"),
                TwinningMatch(need_id=need.id, practice_id=archived, status="suggested"),
            ]
        )
    freshness.run_pass(engine=engine, now=months_later(12))
    freshness.run_pass(engine=engine, now=months_later(18))
    _confirm(engine, listed, team["owner"], now=months_later(18))
    now = months_later(18)
    with db.read_scope(engine) as session:
        lines = {
            line.id: line
            for line in overview.my_practices(session=session, actor=team["colleague"], now=now)
        }
        assert overview.my_practices(session=session, actor=team["stranger"], now=now) == []
    assert (lines[listed].interests, lines[listed].twinnings) == (1, 1)
    assert (lines[listed].status, lines[listed].may_be_outdated) == ("published", False)
    assert (lines[archived].status, lines[archived].twinnings) == ("archived", 0)
    assert lines[archived].confirmable


# --- migration 0010 ------------------------------------------------------------------------


def test_the_migration_takes_the_last_change_as_the_last_confirmation_and_can_be_undone(
    fresh_engine,
):
    config = db.alembic_config(fresh_engine)
    command.upgrade(config, "0009")
    changed, published = datetime(2025, 3, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisation (name, organisation_type, country, created_at) "
                "VALUES ('Clinic', 'other', 'EE', :at)"
            ),
            {"at": published},
        )
        for status in ("published", "archived", "draft"):
            conn.execute(
                text(
                    "INSERT INTO practice (title, summary, transfer_capacity, "
                    "owner_organisation_id, status, featured, created_at, updated_at, "
                    "published_at) "
                    "VALUES (:status, 'A practice', 1, 1, :status, false, :at, :changed, :at)"
                ),
                {"status": status, "at": published, "changed": changed},
            )

    db.upgrade(fresh_engine)

    with db.read_scope(fresh_engine) as session:
        rows = {
            p.status: (p.last_confirmed_at, p.archived_at)
            for p in session.exec(select(Practice)).all()
        }
    assert rows == {
        "published": (changed, None),
        "archived": (changed, changed),
        "draft": (None, None),
    }
    command.downgrade(config, "0009")
    with fresh_engine.connect() as conn:
        assert "last_confirmed_at" not in {c["name"] for c in inspect(conn).get_columns("practice")}
    db.upgrade(fresh_engine)
