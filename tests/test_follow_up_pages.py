"""AppTest of following a twinning on the embedded demo database: the coordinators' dashboard
with a late milestone first, a twinning's page refused to an outsider, the case form checked
field by field, and a published case on its own knowledge page, on its practice's page and
counted on the home page."""

from datetime import date, timedelta

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, twinning
from dhu_core.calls import follow_up, lessons
from dhu_core.models import LessonsCase, Milestone, Practice, TwinningMatch, TwinningNeed, User
from dhu_core.ui import paging
from tests import follow_world
from tests.apptest import APP, sign_in


def _user(name: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == name)).one()


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.header, *at.subheader])


def _open(at: AppTest, page: str, **query: str) -> AppTest:
    at.query_params.clear()
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    assert not at.exception
    return at


def _outsider_twinning(outsider: User) -> TwinningMatch:
    """An agreed demo twinning without a work plan (not from the awarded demo call) that the
    outsider's organisation takes no part in."""
    with db.read_scope() as session:
        planned = set(session.exec(select(Milestone.match_id)).all())
        for match in session.exec(select(TwinningMatch).where(TwinningMatch.status == "agreed")):
            if match.id not in planned and outsider.organisation_id not in twinning.sides(
                session, match
            ):
                return match
    raise AssertionError("the demo data has no agreed twinning")


def _complete(match_id: int, coordinator: User) -> int:
    """Run the twinning's kick-off, final report, case and publication; the case's id."""
    with db.session_scope() as session:
        case = follow_world.ready_to_publish(session, coordinator, match_id, date.today())
        lessons.publish_case(
            session=session, actor=coordinator, match_id=match_id, version=case.version
        )
        return case.id


def test_following_a_twinning_from_the_dashboard_to_the_published_case(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    coordinator, outsider = _user("demo-coordinator"), _user("demo-owner")
    match = _outsider_twinning(outsider)
    with db.session_scope() as session:
        follow_up.start_work_plan(
            session=session, actor=coordinator, match_id=match.id,
            start=date.today() - timedelta(days=70),
        )  # fmt: skip

    sign_in(at, "demo-coordinator")
    _open(at, "app_pages/follow_up.py")
    first = next(p for p in at.get("page_link") if "twinning=" in p.proto.query_string)
    assert first.proto.query_string == f"twinning={match.id}"
    assert "1 late" in _text(at)

    _open(at, "app_pages/follow_up.py", twinning=str(match.id))
    assert "Kick-off" in _text(at) and "late" in _text(at)
    at.text_area(key=f"case-{match.id}-costs").input("Cheap.")
    next(b for b in at.button if b.label == "Save the case").click().run()
    assert any("Please correct 6 fields" in e.value for e in at.error)
    assert at.text_area(key=f"case-{match.id}-costs").value == "Cheap."
    with db.read_scope() as session:
        assert session.exec(select(LessonsCase)).first() is None

    other = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    _open(other, "app_pages/follow_up.py", twinning=str(match.id))
    assert any("Only the two organisations" in w.value for w in other.warning)
    _open(other, "app_pages/follow_up.py")
    own = [
        p.proto.query_string for p in other.get("page_link") if "twinning=" in p.proto.query_string
    ]
    with db.read_scope() as session:
        theirs = follow_up.own_twinnings(session=session, actor=outsider)
    assert own == [f"twinning={t.id}" for t in theirs] and match.id not in {t.id for t in theirs}

    assert "Upload the report" in [b.label for b in at.button]
    case_id = _complete(match.id, coordinator)
    _open(at, "app_pages/follow_up.py", twinning=str(match.id))
    labels = [b.label for b in at.button]
    assert "Upload the report" not in labels and "Mark done" not in labels, labels
    _open(at, "app_pages/knowledge.py", case=str(case_id))
    assert "Readmissions within 30 days fell" in _text(at)
    with db.read_scope() as session:
        practice = session.get(Practice, match.practice_id)
        adopter = session.get(TwinningNeed, match.need_id).organisation_id
    assert practice.owner_organisation_id != adopter
    _open(at, "app_pages/radar.py", practice=str(practice.id))
    assert any(f"case={case_id}" in p.proto.query_string for p in at.get("page_link"))
    _open(at, "app_pages/home.py")
    assert any("completed" in c.value for c in at.caption)


def test_what_is_typed_for_one_twinning_stays_with_it(embedded_app):
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-coordinator")
    with db.read_scope() as session:
        rows = follow_up.dashboard(session=session, actor=_user("demo-coordinator"))
    first, second = rows[0].id, rows[1].id

    _open(at, "app_pages/follow_up.py", twinning=str(first))
    next(t for t in at.text_input if t.label == "Topic *").input("Data protection").run()
    next(b for b in at.button if b.label == "Save the case").click().run()
    assert any("Please correct 6 fields" in e.value for e in at.error)

    _open(at, "app_pages/follow_up.py", twinning=str(second))
    assert [t.value for t in at.text_input if t.label == "Topic *"] == [""]
    assert not at.error


def test_the_dashboard_shows_a_page_of_twinnings_at_a_time_named_in_the_address(
    embedded_app, monkeypatch
):
    # At 100,000 practices it listed 346 twinnings under way on one page (23 MB per visit).
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-coordinator")
    with db.read_scope() as session:
        under_way = follow_up.dashboard(session=session, actor=_user("demo-coordinator"))
    assert len(under_way) >= 3
    pages = -(-len(under_way) // 2)

    def linked(at: AppTest) -> list[str]:
        shown = [p.proto.query_string for p in at.get("page_link")]
        return [link for link in shown if link.startswith("twinning=")]

    _open(at, "app_pages/follow_up.py")
    assert linked(at) == [f"twinning={s.id}" for s in under_way[:2]]
    assert f"Page 1 of {pages}" in _text(at)
    next(b for b in at.button if b.label == "Next").click().run()
    assert at.query_params["page"] in ("2", ["2"])
    assert linked(at) == [f"twinning={s.id}" for s in under_way[2:4]]

    at.query_params.clear()
    at.query_params["page"] = "999"  # beyond the last: the last opens
    at.switch_page("app_pages/follow_up.py").run()
    assert at.query_params["page"] in (str(pages), [str(pages)])
    assert linked(at) == [f"twinning={s.id}" for s in under_way[(pages - 1) * 2 :]]
    assert next(b for b in at.button if b.label == "Next").disabled
