"""Following an awarded twinning: the work plan and late milestones, technical assistance,
reports checked by their content, and the lessons-learned case published to the knowledge
community, which completes the twinning (on SQLite and PostgreSQL)."""

from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from dhu_core import db, maps, uptake
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import follow_up, lessons
from dhu_core.config import get_settings
from dhu_core.models import (
    AssistanceInput,
    AuditEvent,
    FieldError,
    LessonsInput,
    Milestone,
    StateConflict,
    TwinningMatch,
)
from tests import call_world, follow_world
from tests.follow_world import START

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
SESSION = AssistanceInput(held_on=START, topic="Triage rules", hours=2.5, notes="Went well.")


@pytest.fixture
def world(engine):
    with db.session_scope(engine) as session:
        return follow_world.build(session)


def _plan(engine, match_id: int) -> dict[str, Milestone]:
    with db.read_scope(engine) as session:
        found = session.exec(select(Milestone).where(Milestone.match_id == match_id)).all()
    return {m.kind: m for m in found}


def _status(engine, match_id: int) -> str:
    with db.read_scope(engine) as session:
        return session.get(TwinningMatch, match_id).status


def _actions(engine) -> list[str]:
    with db.read_scope(engine) as session:
        return list(session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all())


def _done(engine, world, kind: str, who: str = "adopter", on: date = START, version=None):
    milestone = _plan(engine, world["match"])[kind]
    with db.session_scope(engine) as session:
        return follow_up.mark_milestone_done(
            session=session,
            actor=world[who],
            milestone_id=milestone.id,
            done_on=on,
            version=milestone.version if version is None else version,
            today=on,
        )


def _upload(engine, world, content: bytes, *, who="adopter", kind="final", name="r.pdf", **kw):
    with db.session_scope(engine) as session:
        return follow_up.upload_report(
            session=session,
            actor=world[who],
            match_id=world["match"],
            kind=kind,
            filename=name,
            content=content,
            **kw,
        )


def test_a_work_plan_spaces_five_milestones_over_the_months(world, engine):
    plan = _plan(engine, world["match"])
    assert {kind: m.due_on for kind, m in plan.items()} == {
        # 31 January: the months without a 31st end on their last day.
        "kick-off": date(2027, 2, 28),
        "study-visit": date(2027, 4, 30),
        "adaptation": date(2027, 7, 31),
        "pilot": date(2027, 10, 31),
        "final-report": date(2028, 1, 31),
    }
    assert "follow_up.plan_started" in _actions(engine)
    for who in ("coordinator", "adopter"):
        with pytest.raises((StateConflict, PermissionDenied)), db.session_scope(engine) as s:
            follow_up.start_work_plan(
                session=s, actor=world[who], match_id=world["match"], start=START
            )


def test_late_milestones_are_flagged_and_come_first_on_the_dashboard(world, engine):
    with db.session_scope(engine) as session:
        home = call_world.organisation(session, "Aarhus Clinic", "DK")
        other = follow_world.twinning(
            session, call_world.need(session, home, "DK"), world["practice"]
        )
        follow_up.start_work_plan(
            session=session,
            actor=world["coordinator"],
            match_id=other,
            start=START - timedelta(days=60),
        )
        unplanned = follow_world.twinning(
            session, call_world.need(session, home, "DK"), world["practice"]
        )
    today = date(2027, 3, 15)  # the first plan's kick-off is late; the second's two are
    _done(engine, world, "kick-off", on=date(2027, 3, 1))
    with db.read_scope(engine) as session:
        rows = follow_up.dashboard(session=session, actor=world["coordinator"], today=today)
        seen = follow_up.follow_up(
            session=session, actor=world["adopter"], match_id=world["match"], today=today
        )
    assert [(r.id, r.late) for r in rows] == [(other, 2), (world["match"], 0), (unplanned, 0)]
    assert rows[1].next_milestone.kind == "study-visit"
    assert not any(seen.late(m) for m in seen.milestones)
    assert seen.late(seen.milestones[1]) is False
    assert follow_up.is_late(seen.milestones[1], date(2027, 5, 1))


def test_the_pair_marks_milestones_done_and_the_kick_off_starts_the_transfer(world, engine):
    with pytest.raises(PermissionDenied):
        _done(engine, world, "kick-off", who="outsider")
    milestone = _plan(engine, world["match"])["kick-off"]
    with pytest.raises(FieldError, match="future"), db.session_scope(engine) as session:
        follow_up.mark_milestone_done(
            session=session, actor=world["adopter"], milestone_id=milestone.id,
            done_on=START + timedelta(days=1), version=milestone.version, today=START,
        )  # fmt: skip
    stale = _plan(engine, world["match"])["kick-off"].version
    _done(engine, world, "kick-off", who="originator")
    assert _status(engine, world["match"]) == "in-transfer"
    with pytest.raises(StateConflict, match="rui"):
        _done(engine, world, "kick-off", version=stale)
    assert _actions(engine)[-2:] == ["follow_up.milestone_done", "twinning.status_changed"]


def test_only_coordinators_reschedule_and_log_assistance_that_the_pair_sees(world, engine):
    pilot = _plan(engine, world["match"])["pilot"]
    for who in ("adopter", "outsider"):
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            follow_up.log_assistance(
                session=session, actor=world[who], match_id=world["match"], data=SESSION
            )
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            follow_up.reschedule_milestone(
                session=session, actor=world[who], milestone_id=pilot.id,
                due_on=date(2027, 12, 1), version=pilot.version,
            )  # fmt: skip
    with db.session_scope(engine) as session:
        follow_up.log_assistance(
            session=session, actor=world["coordinator"], match_id=world["match"], data=SESSION
        )
        follow_up.reschedule_milestone(
            session=session, actor=world["coordinator"], milestone_id=pilot.id,
            due_on=date(2027, 12, 1), version=pilot.version,
        )  # fmt: skip
    with db.read_scope(engine) as session:
        seen = follow_up.follow_up(
            session=session, actor=world["originator"], match_id=world["match"]
        )
        with pytest.raises(PermissionDenied):
            follow_up.follow_up(session=session, actor=world["outsider"], match_id=world["match"])
    assert [(s.topic, s.hours) for s in seen.sessions] == [("Triage rules", 2.5)]
    assert _plan(engine, world["match"])["pilot"].due_on == date(2027, 12, 1)
    with pytest.raises(ValidationError):
        AssistanceInput(held_on=START, topic="x", hours=0)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "neither"),  # a Windows executable
        (b"PK\x03\x04\x14\x00\x00\x00", "neither"),  # a zip archive
        (b"Progress\x00report", "neither"),
        ("Fortschritt, März".encode("latin-1"), "UTF-8"),
        (b"<html><script>alert(1)</script></html>", "neither"),  # a web page renamed .txt
        (b'\xef\xbb\xbf <?xml version="1.0"?><svg onload="alert(1)"/>', "neither"),  # SVG
    ],
)
def test_a_report_that_is_neither_pdf_nor_text_is_refused(content, problem):
    with pytest.raises(FieldError, match=problem) as refusal:
        follow_up.report_type(content)
    assert refusal.value.field == "file"


def test_a_report_is_typed_by_its_content_and_its_name_made_safe():
    assert follow_up.report_type(PDF) == follow_up.PDF
    assert follow_up.report_type("Fortschritt im März".encode()) == follow_up.TEXT
    assert follow_up.safe_filename("../../etc/final report.txt", follow_up.PDF) == (
        "final report.pdf"
    )
    assert follow_up.safe_filename('<b>"x".exe', follow_up.TEXT) == "b_x_.txt"
    assert follow_up.safe_filename("...", follow_up.TEXT) == "report.txt"


def test_reports_are_uploaded_and_downloaded_by_the_pair_and_coordinators_only(world, engine):
    report = _upload(engine, world, PDF, name="final.txt")
    assert (report.content_type, report.filename) == (follow_up.PDF, "final.pdf")
    with pytest.raises(FieldError, match="at most"):
        _upload(engine, world, b"x" * 2048, name="big.txt", max_bytes=1024)
    with pytest.raises(FieldError, match="neither"):
        _upload(engine, world, b"PK\x03\x04\x00\x00", name="sneaky.pdf")
    with pytest.raises(FieldError, match="empty"):
        _upload(engine, world, b"", name="empty.txt")
    with pytest.raises(PermissionDenied):
        _upload(engine, world, PDF, who="outsider")
    for who in ("originator", "coordinator"):
        with db.session_scope(engine) as session:
            got = follow_up.download_report(session=session, actor=world[who], report_id=report.id)
            assert got.content == PDF
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        follow_up.download_report(session=session, actor=world["outsider"], report_id=report.id)
    assert _actions(engine).count("follow_up.report_downloaded") == 2


def _save_case(engine, world, who="adopter", version=None, data=None):
    with db.session_scope(engine) as session:
        return lessons.save_case(
            session=session,
            actor=world[who],
            match_id=world["match"],
            data=data or follow_world.lessons_input(),
            version=version,
        )


def _publish(engine, world, version: int, who="coordinator"):
    with db.session_scope(engine) as session:
        return lessons.publish_case(
            session=session, actor=world[who], match_id=world["match"], version=version
        )


def _public(engine, world, text: str = "") -> tuple[list, list]:
    with db.read_scope(engine) as session:
        return (
            lessons.published_cases(session=session, text=text),
            lessons.cases_of_practice(session=session, practice_id=world["practice"]),
        )


def test_a_published_case_completes_the_twinning_and_is_public(world, engine):
    with pytest.raises(PermissionDenied):
        _save_case(engine, world, who="outsider")
    case = _save_case(engine, world)
    assert _public(engine, world) == ([], [])  # a draft is not public
    _done(engine, world, "kick-off")
    for who in ("adopter", "originator"):
        with pytest.raises(PermissionDenied):
            _publish(engine, world, case.version, who=who)
    with pytest.raises(FieldError, match="final report"):
        _publish(engine, world, case.version)
    _upload(engine, world, b"Our final report.", name="final.txt")
    with pytest.raises(StateConflict):
        _publish(engine, world, case.version - 1)
    before = uptake.headline_figures(engine)
    _publish(engine, world, case.version)
    after = uptake.headline_figures(engine)

    assert _status(engine, world["match"]) == "completed"
    everywhere, of_practice = _public(engine, world)
    assert [c.id for c in everywhere] == [c.id for c in of_practice] == [case.id]
    assert everywhere[0].parts["costs"].startswith("About 40,000 EUR")
    assert [c.id for c in _public(engine, world, "readmissions odense")[0]] == [case.id]
    assert _public(engine, world, "blockchain")[0] == []
    assert (before.completed_twinnings, after.completed_twinnings) == (0, 1)
    assert after.twinnings == before.twinnings == 1
    filters = uptake.UptakeFilters()
    arcs = uptake.twinnings(filters, engine=engine)
    assert list(arcs["status"]) == ["completed"]
    deck = maps.uptake_map(
        uptake.country_uptake(filters, engine=engine), "deployed", twinnings=arcs
    )
    drawn = next(layer for layer in deck.layers if layer.id == "twinnings").data
    assert [arc["width"] for arc in drawn] == [maps.COMPLETED_ARC_WIDTH]
    with pytest.raises(StateConflict):
        _save_case(engine, world, version=case.version + 1)
    assert _actions(engine)[-2:] == ["lessons.case_published", "twinning.status_changed"]


def test_a_case_is_checked_part_by_part():
    parts = follow_world.lessons_input().model_dump()
    with pytest.raises(ValidationError) as refusal:
        LessonsInput(**{**parts, "barriers": "None.", "costs": "x" * 6000})
    assert {e["loc"][0] for e in refusal.value.errors()} == {"barriers", "costs"}


def test_the_report_size_limit_is_a_setting(world, engine, monkeypatch):
    monkeypatch.setenv("DHU_REPORT_MAX_BYTES", "2048")
    get_settings.cache_clear()
    try:
        with pytest.raises(FieldError, match="at most 2 kB; this one has 4 kB"):
            _upload(engine, world, b"x" * 4096, name="big.txt")
        assert _upload(engine, world, b"x" * 2048, name="small.txt").size == 2048
    finally:
        monkeypatch.delenv("DHU_REPORT_MAX_BYTES")
        get_settings.cache_clear()


def _move(engine, world, kind: str, due_on: date, today: date = START):
    milestone = _plan(engine, world["match"])[kind]
    with db.session_scope(engine) as session:
        return follow_up.reschedule_milestone(
            session=session, actor=world["coordinator"], milestone_id=milestone.id,
            due_on=due_on, version=milestone.version, today=today,
        )  # fmt: skip


def test_milestone_dates_stay_between_the_twinning_and_a_few_years_ahead(world, engine):
    with db.read_scope(engine) as session:
        began = session.get(TwinningMatch, world["match"]).created_at.date()
    with pytest.raises(FieldError, match="when this twinning began") as refusal:
        _move(engine, world, "pilot", began - timedelta(days=1))
    assert refusal.value.field == "due_on"
    with pytest.raises(FieldError, match="within 5 years"):
        _move(engine, world, "pilot", date(START.year + 6, 1, 1))
    with pytest.raises(FieldError, match="when this twinning began") as refusal:
        _done(engine, world, "kick-off", on=date(2001, 1, 1))
    assert refusal.value.field == "done_on"
    assert _plan(engine, world["match"])["pilot"].due_on == follow_up.add_months(START, 9)


def test_the_follow_up_of_a_completed_twinning_is_closed(world, engine):
    with db.session_scope(engine) as session:
        session.get(TwinningMatch, world["match"]).status = "completed"
    with pytest.raises(StateConflict, match="follow-up is closed"):
        _done(engine, world, "study-visit")
    with pytest.raises(StateConflict, match="follow-up is closed"):
        _move(engine, world, "pilot", date(2028, 1, 1))
    with pytest.raises(StateConflict, match="follow-up is closed"), db.session_scope(engine) as s:
        follow_up.log_assistance(
            session=s, actor=world["coordinator"], match_id=world["match"], data=SESSION
        )
    with pytest.raises(StateConflict, match="follow-up is closed"):
        _upload(engine, world, PDF, kind="progress")
    assert _plan(engine, world["match"])["study-visit"].done_on is None
