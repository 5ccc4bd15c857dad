"""The demo data set: realistic, valid, deterministic, and only ever written where it belongs."""

import re
from dataclasses import fields
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from dhu_core import accounts, db, demo, geo, organisations, taxonomy
from dhu_core.calls import applications, award, calls, eligibility, follow_up
from dhu_core.models import (
    NEED_TAG_FIELDS,
    PRACTICE_TAG_FIELDS,
    Call,
    CallApplication,
    Digest,
    DigestPractice,
    NeedTag,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeTag,
    TwinningMatch,
    TwinningNeed,
    User,
    in_utc,
    utcnow,
)
from tests.browser import ROOT

PRACTICES = 120
#: What earlier versions seeded and printed for everyone to read.
OLD_PUBLISHED_PASSWORDS = [
    "Owner-demo-2026!",
    "Owner2-demo-2026!",
    "Coordinator-demo-2026!",
    "Admin-demo-2026!",
]

TAG_CODES = {
    "type": taxonomy.PRACTICE_TYPES,
    "domain": taxonomy.HEALTH_DOMAINS,
    "dhi": taxonomy.DHI_CODES,
    "standard": taxonomy.STANDARDS,
    "language": taxonomy.LANGUAGES,
}


@pytest.fixture
def seeded(engine):
    """The demo data set with a small number of practices."""
    demo.seed_demo(engine=engine, practices=PRACTICES)
    return engine


def rows(engine, *columns) -> list:
    with engine.connect() as conn:
        return conn.execute(select(*columns)).all()


def titles(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Practice.title).order_by(Practice.id)))


def test_seed_writes_the_requested_practices_across_europe(engine):
    version = db.data_version(engine)
    summary = demo.seed_demo(engine=engine, practices=PRACTICES)

    assert summary.practices == PRACTICES
    assert len(rows(engine, Practice.id)) == PRACTICES
    countries = {country for (country,) in rows(engine, Organisation.country)}
    assert len(countries) >= 35
    assert countries <= set(geo.countries())
    assert summary.organisations == len(rows(engine, Organisation.id))
    assert summary.needs >= 12 and summary.matches > 0 and 3 <= summary.digests <= 6
    assert db.is_demo(engine)
    assert db.data_version(engine) > version


def test_practices_cover_every_type_maturity_and_status(seeded):
    practices = rows(seeded, Practice.practice_type, Practice.maturity, Practice.status)
    assert {kind for kind, _, _ in practices} == set(taxonomy.PRACTICE_TYPES)
    assert {level for _, level, _ in practices} == set(taxonomy.MATURITY_LEVELS)
    statuses = [status for _, _, status in practices]
    assert set(statuses) <= set(taxonomy.PRACTICE_STATUSES)
    assert statuses.count("published") / len(statuses) > 0.75
    assert len(set(titles(seeded))) == PRACTICES


def test_practice_fields_are_consistent(seeded):
    with Session(seeded) as session:
        practices = session.exec(select(Practice)).all()
    for practice in practices:
        assert practice.updated_at >= practice.created_at
        assert (practice.published_at is not None) == (practice.status in ("published", "archived"))
        assert (practice.rejection_reason is not None) == (practice.status == "rejected")
        assert 1 <= practice.transfer_capacity <= 3
        assert practice.website is None or practice.website.startswith("https://example.org/")
        assert practice.contact_email is None or practice.contact_email.endswith("@example.org")
        if practice.featured:
            assert practice.status == "published" and practice.maturity >= 4
            assert practice.featured_analysis
    assert any(practice.featured for practice in practices)


def test_every_code_and_country_is_valid(seeded):
    for kind, code in rows(seeded, PracticeTag.kind, PracticeTag.code):
        assert kind in PRACTICE_TAG_FIELDS
        assert code in TAG_CODES[kind], (kind, code)
    for kind, code in rows(seeded, NeedTag.kind, NeedTag.code):
        assert kind in NEED_TAG_FIELDS
        assert code in TAG_CODES[kind], (kind, code)
    for (country,) in rows(seeded, PracticeCountry.country):
        assert country in geo.country_names()
    for (kind,) in rows(seeded, Organisation.organisation_type):
        assert kind in taxonomy.ORGANISATION_TYPES
    for country, kind in rows(seeded, TwinningNeed.country, TwinningNeed.twinning_type):
        assert country in geo.countries() and kind in taxonomy.TWINNING_TYPES


def test_every_practice_is_deployed_and_tagged(seeded):
    deployed = {practice_id for (practice_id,) in rows(seeded, PracticeCountry.practice_id)}
    tagged = rows(seeded, PracticeTag.practice_id, PracticeTag.kind)
    assert deployed == set(range(1, PRACTICES + 1))
    for kind in ("domain", "dhi", "language"):
        assert {practice_id for practice_id, k in tagged if k == kind} == deployed


def test_one_account_per_role_that_logs_in_with_a_password_drawn_at_seeding(engine):
    summary = demo.seed_demo(engine=engine, practices=PRACTICES)
    with Session(engine) as session:
        users = {user.username: user for user in session.exec(select(User))}
    assert {user.role for user in users.values()} == set(taxonomy.ROLES)
    assert [login.username for login in summary.logins] == list(demo.DEMO_USERNAMES)
    for login in summary.logins:
        assert accounts.password_problem(login.password) is None
        assert accounts.check_password(login.password, users[login.username].password_hash)
        assert not accounts.check_password("wrong password", users[login.username].password_hash)
    owner, owner2 = users["demo-owner"], users["demo-owner2"]
    assert owner.organisation_id and owner2.organisation_id
    assert owner.organisation_id != owner2.organisation_id


def test_every_seeding_draws_new_passwords_and_the_old_published_ones_fail(engine):
    first = demo.seed_demo(engine=engine, practices=PRACTICES).logins
    second = demo.reset_demo(engine=engine, practices=PRACTICES).logins
    assert {a.password for a in first}.isdisjoint(a.password for a in second)
    assert len({a.password for a in first}) == len(first)
    with Session(engine) as session:
        hashes = [user.password_hash for user in session.exec(select(User))]
    for password in OLD_PUBLISHED_PASSWORDS + [a.password for a in first]:
        assert not any(accounts.check_password(password, h) for h in hashes)


def test_no_demo_password_is_written_in_the_code():
    sources = [*(ROOT / "dhu_core").rglob("*.py"), *(ROOT / "app_pages").glob("*.py")]
    sources += [ROOT / "README.md", ROOT / "app.py", ROOT / "main.py"]
    # Only the migration that replaces them names the passwords published before.
    migration = ROOT / "dhu_core" / "migrations" / "versions" / "20261130_0007_demo_passwords.py"
    for source in sources:
        if source != migration:
            text = source.read_text(encoding="utf-8")
            assert not [p for p in OLD_PUBLISHED_PASSWORDS if p in text], source
    assert "password" not in {field.name for field in fields(demo.DemoAccount)}


def test_demo_owner_has_published_draft_and_submitted_practices(seeded):
    with Session(seeded) as session:
        owner = session.exec(select(User).where(User.username == "demo-owner")).one()
        statuses = session.exec(
            select(Practice.status).where(Practice.owner_organisation_id == owner.organisation_id)
        ).all()
    assert statuses.count("published") >= 3
    assert "draft" in statuses and "submitted" in statuses


def test_matches_pair_needs_with_transferable_practices_of_others(seeded):
    with Session(seeded) as session:
        matches = session.exec(select(TwinningMatch)).all()
        needs = {need.id: need for need in session.exec(select(TwinningNeed))}
        practices = {p.id: p for p in session.exec(select(Practice))}
    assert {match.status for match in matches} <= set(taxonomy.MATCH_STATUSES)
    assert sum(match.status in taxonomy.TWINNING_STATUSES for match in matches) >= 3
    for match in matches:
        practice = practices[match.practice_id]
        assert practice.status == "published" and practice.transferable
        assert practice.owner_organisation_id != needs[match.need_id].organisation_id
        assert 0 <= match.score <= 1
        assert match.breakdown and all(0 <= value <= 1 for value in match.breakdown.values())


def test_digests_are_published_and_link_published_practices(seeded):
    with Session(seeded) as session:
        coordinator = session.exec(select(User).where(User.username == "demo-coordinator")).one()
        digests = session.exec(select(Digest)).all()
        linked = session.exec(
            select(Practice.status).join(DigestPractice, DigestPractice.practice_id == Practice.id)
        ).all()
    assert 3 <= len(digests) <= 6
    for digest in digests:
        assert digest.status == "published" and digest.published_at is not None
        assert digest.author_id == coordinator.id
    assert linked and set(linked) == {"published"}


def test_one_open_call_and_one_closed_call_with_eligible_applications(seeded):
    with db.read_scope(seeded) as session:
        listing = calls.list_calls(session=session, actor=None)
        [open_call], [closed] = listing.open, listing.past
        assert listing.upcoming == [] and listing.drafts == []
        assert timedelta(days=14) < open_call.closes_at - utcnow() < timedelta(days=42)
        owner = _demo_user(session, "demo-owner")
        [request] = applications.confirmation_requests(
            session=session, actor=owner, call_id=open_call.id
        )
        assert request.status == "pending"
        for call, count in ((open_call, 2), (closed, 3)):
            received = applications.call_applications(
                session=session, actor=_demo_user(session, "demo-coordinator"), call_id=call.id
            )
            assert len(received) == count
            for application in received:
                assert application.complete == (application.status == "submitted")
                row = session.get(CallApplication, application.id)
                adopter = session.get(Organisation, row.organisation_id)
                chosen = [session.get(Practice, p.practice_id) for p in application.practices]
                assert {p.status for p in chosen} == {"published"}
                assert not eligibility.problems(
                    session.get(Call, call.id),
                    adopter_country=adopter.country,
                    practices=[
                        eligibility.Candidate(p.title, p.practice_type, p.maturity) for p in chosen
                    ],
                )
        assert [a.status for a in applications.call_applications(
            session=session, actor=_demo_user(session, "demo-admin"), call_id=closed.id
        )] == ["submitted"] * 3  # fmt: skip


def test_the_closed_call_is_awarded_with_twinnings_in_progress(seeded):
    with db.read_scope(seeded) as session:
        coordinator = _demo_user(session, "demo-coordinator")
        listing = calls.list_calls(session=session, actor=None)
        [open_call], [closed] = listing.open, listing.past
        assert session.get(Call, open_call.id).awarded_at is None
        call = session.get(Call, closed.id)
        decided = award.outcomes(session=session, actor=coordinator, call_id=closed.id)
        assert call.awarded_at is not None and len(decided) == 3
        awarded = [d for d in decided if d.outcome == "awarded"]
        assert len(awarded) == min(call.places, 3) and all(d.practice for d in awarded)
        assert [d.rank for d in decided] == sorted(d.rank for d in decided)
        today = utcnow().date()
        under_way = [
            s
            for s in follow_up.dashboard(session=session, actor=coordinator, today=today)
            if s.call_id == closed.id
        ]
        assert len(under_way) == len(awarded)
        plans = [
            follow_up.follow_up(session=session, actor=coordinator, match_id=s.id, today=today)
            for s in under_way
        ]
    start = in_utc(call.awarded_at).date()
    for plan in plans:
        assert plan.twinning.status in follow_up.UNDER_WAY
        assert [m.due_on for m in plan.milestones] == [
            follow_up.add_months(start, months) for months in follow_up.DEFAULT_MONTHS.values()
        ]
        kick_off = plan.milestones[0]
        assert (plan.twinning.status == "in-transfer") == (kick_off.done_on is not None)
        assert all(m.done_on is None or start <= m.done_on < today for m in plan.milestones)
    assert any(m.done_on for plan in plans for m in plan.milestones)
    assert sum(plan.twinning.late > 0 for plan in plans) >= 1
    assert sum(len(plan.sessions) for plan in plans) == 1
    [report] = [r for plan in plans for r in plan.reports]
    assert (report.kind, report.content_type) == ("progress", follow_up.TEXT)


def _demo_user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(engine):
    demo.seed_demo(engine=engine, practices=PRACTICES, seed=7)
    first = titles(engine)
    demo.reset_demo(engine=engine, practices=PRACTICES, seed=7)
    assert titles(engine) == first
    demo.reset_demo(engine=engine, practices=PRACTICES, seed=8)
    assert titles(engine) != first


def test_reset_replaces_the_demo_data(seeded):
    summary = demo.reset_demo(engine=seeded, practices=60)
    assert summary.practices == 60
    assert len(rows(seeded, Practice.id)) == 60
    assert db.is_demo(seeded)


def test_seeding_a_database_with_data_is_refused(engine):
    with db.session_scope(engine) as session:
        session.add(Organisation(name="Real Hospital", country="AT"))
    with pytest.raises(demo.DemoError, match="already holds data"):
        demo.seed_demo(engine=engine, practices=PRACTICES)
    assert not db.is_demo(engine)


def test_seeding_twice_is_refused(seeded):
    with pytest.raises(demo.DemoError):
        demo.seed_demo(engine=seeded, practices=PRACTICES)


def test_reset_of_a_database_without_demo_data_is_refused(engine):
    with db.session_scope(engine) as session:
        session.add(Organisation(name="Real Hospital", country="AT"))
    with pytest.raises(demo.DemoError, match="does not hold demo data"):
        demo.reset_demo(engine=engine, practices=PRACTICES)
    assert len(rows(engine, Organisation.id)) == 1


def test_an_unmigrated_database_is_refused(tmp_path):
    engine = db.get_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with pytest.raises(demo.DemoError, match="not migrated"):
        demo.seed_demo(engine=engine, practices=PRACTICES)
    engine.dispose()


def test_seeding_and_resetting_leave_no_large_write_ahead_log(tmp_path):
    database = tmp_path / "dhu.sqlite3"
    wal = tmp_path / "dhu.sqlite3-wal"
    engine = db.get_engine(f"sqlite:///{database}")
    try:
        db.upgrade(engine)
        demo.seed_demo(engine=engine, practices=PRACTICES)
        assert not wal.exists() or wal.stat().st_size == 0
        demo.reset_demo(engine=engine, practices=PRACTICES)
        assert not wal.exists() or wal.stat().st_size == 0
        assert len(rows(engine, Practice.id)) == PRACTICES
    finally:
        engine.dispose()


def test_too_few_practices_are_refused(engine):
    with pytest.raises(demo.DemoError, match="at least"):
        demo.seed_demo(engine=engine, practices=5)


def test_normal_inserts_work_after_seeding(seeded):
    with db.session_scope(seeded) as session:
        organisation = Organisation(name="New Clinic After Demo", country="DE")
        session.add(organisation)
        session.flush()
        practice = Practice(
            title="A practice registered after the demo",
            summary="Registered through the normal ORM path.",
            practice_type="app",
            maturity=2,
            owner_organisation_id=organisation.id,
        )
        session.add(practice)
    with db.session_scope(seeded) as session:
        highest = session.exec(select(func.max(Organisation.id))).one()
    assert organisation.id == highest
    assert practice.id == PRACTICES + 1


def test_organisations_are_named_once_with_their_country(seeded):
    """Issue 11: company names carried "(CY)", and the choices wrote "Name (CY) (CY)"."""
    companies = rows(seeded, Organisation.name, Organisation.organisation_type)
    assert any(kind == "company" for _, kind in companies)
    assert [name for name, _ in companies if re.search(r"\([A-Z]{2}\)$", name)] == []
    labels = organisations.organisation_choices(engine=seeded).values()
    assert [label for label in labels if re.search(r"\([A-Z]{2}\) \([A-Z]{2}\)$", label)] == []
