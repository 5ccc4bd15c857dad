"""Live workshops: refresh interval, QR code, quick capture with its rate limit, demo resets."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from PIL import Image
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import accounts, db, demo, live, practices, uptake
from dhu_core.accounts import PermissionDenied, visitor
from dhu_core.config import Settings, get_settings, public_url
from dhu_core.models import (
    AuditEvent,
    CaptureCreate,
    CaptureOwner,
    FieldError,
    Organisation,
    Practice,
    PracticeCreate,
    StateConflict,
    User,
    field_errors,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(None, 5), ("", 5), ("abc", 5), ("1", 1), ("0", 1), ("-4", 1), ("12", 12), ("99999", 300)],
)
def test_the_refresh_interval_comes_from_the_url_within_limits(given, seconds):
    assert live.refresh_seconds(given) == seconds


def test_the_capture_url_lies_under_the_public_url(tmp_path):
    configured = Settings(dhu_data_dir=tmp_path, dhu_public_url="https://workshop.example.org/dhu/")
    reached = "http://192.168.1.20:8765"
    assert live.capture_url(public_url(configured, reached)) == (
        "https://workshop.example.org/dhu/capture"
    )
    # Unset, the address the browser used: with the port the app really runs on.
    assert Settings(dhu_data_dir=tmp_path).dhu_public_url is None
    assert live.capture_url(public_url(Settings(dhu_data_dir=tmp_path), reached)) == (
        "http://192.168.1.20:8765/capture"
    )


def decode_qr(png: bytes) -> list[str]:
    """The texts of the QR codes in a PNG image, read by ZXing."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    return [code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize(
    "address", ["http://localhost:8501", "https://workshop.example.org/dhu?x=1&y=ü"]
)
def test_the_qr_code_encodes_exactly_the_capture_url(address):
    url = live.capture_url(address)
    assert decode_qr(live.qr_png(url)) == [url]


def test_capture_wait_allows_three_captures_per_ten_minutes():
    minute = timedelta(minutes=1)
    assert live.capture_wait([], NOW) is None
    assert live.capture_wait([NOW - 2 * minute, NOW - minute], NOW) is None
    three = [NOW - 7 * minute, NOW - 2 * minute, NOW - minute]
    assert live.capture_wait(three, NOW) == 3 * minute
    assert live.capture_wait([NOW - 11 * minute, NOW - 2 * minute, NOW - minute], NOW) is None


CAPTURE = dict(
    title="Asthma coach app", country="Estonia", practice_type="App", contact_email="a@b.org"
)


def test_a_capture_is_a_draft_of_the_countrys_workshop_organisation(engine):
    with db.session_scope(engine) as session:
        for title in ("Asthma coach app", "Falls prevention at home"):
            live.capture_practice(
                session=session,
                data=CaptureCreate(**{**CAPTURE, "title": title}),
                actor=visitor(),
                client="192.0.2.1",
            )
    with db.session_scope(engine) as session:
        stored = session.exec(select(Practice, Organisation).join(Organisation)).all()
        audit = session.exec(select(AuditEvent.action)).all()
    assert {(p.title, p.status, p.practice_type, o.name, o.country) for p, o in stored} == {
        ("Asthma coach app", "draft", "app", "Workshop captures", "EE"),
        ("Falls prevention at home", "draft", "app", "Workshop captures", "EE"),
    }
    assert len({o.id for _, o in stored}) == 1
    assert audit == ["practice.captured", "practice.captured"]
    assert live.captures_since(datetime.now(UTC) - timedelta(hours=1), engine=engine) == 2
    assert live.captures_since(datetime.now(UTC) + timedelta(minutes=1), engine=engine) == 0


def test_a_fourth_capture_within_ten_minutes_is_refused(engine):
    earlier = [NOW - timedelta(minutes=m) for m in (9, 5, 1)]
    limit = pytest.raises(live.CaptureLimit, match="wait about 1 minute")
    with limit, db.session_scope(engine) as session:
        live.capture_practice(
            session=session,
            data=CaptureCreate(**CAPTURE),
            actor=visitor(),
            client="192.0.2.1",
            earlier=earlier,
            now=lambda: NOW,
        )
    with db.session_scope(engine) as session:
        assert session.exec(select(Practice)).all() == []
        live.capture_practice(
            session=session,
            data=CaptureCreate(**CAPTURE),
            actor=visitor(),
            client="192.0.2.1",
            earlier=earlier,
            now=lambda: NOW + timedelta(minutes=2),
        )


@pytest.fixture
def staff(engine):
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tallinn Clinic", country="EE")
        session.add(clinic)
        session.flush()
        return {
            role: accounts.create_user(
                session=session,
                username=role,
                password="Long-enough-pw-1",
                role=role,
                email=f"{role}@example.org",
                organisation_id=clinic.id,
            )
            for role in ("owner", "coordinator", "admin")
        }


def _capture(engine) -> int:
    with db.session_scope(engine) as session:
        return live.capture_practice(
            session=session, data=CaptureCreate(**CAPTURE), actor=visitor(), client="192.0.2.1"
        ).id


def _completed(form) -> PracticeCreate:
    return PracticeCreate(
        **{
            **form.model_dump(),
            "summary": "A coach in the phone helps children with asthma take their inhalers.",
            "maturity": 2,
        }
    )


def test_a_coordinator_completes_and_publishes_a_capture(engine, staff):
    capture_id = _capture(engine)
    coordinator = staff["coordinator"]
    with db.session_scope(engine) as session:
        [waiting] = live.open_captures(session=session, actor=coordinator)
        form = live.capture_form(session=session, actor=coordinator, practice_id=capture_id)
    assert (waiting.id, waiting.country, waiting.contact_email) == (capture_id, "EE", "a@b.org")
    assert (form.title, form.countries, form.practice_type) == ("Asthma coach app", ["EE"], "app")

    complete = _completed(form)
    clinic = CaptureOwner(organisation_id=coordinator.organisation_id)
    with db.session_scope(engine) as session:
        live.complete_capture(
            session=session, actor=coordinator, practice_id=capture_id, data=complete, owner=clinic
        )
    [newest] = practices.newest_practices(limit=1, engine=engine)
    assert (newest.id, newest.status, newest.maturity) == (capture_id, "published", 2)
    assert newest.owner_organisation == "Tallinn Clinic"
    with db.session_scope(engine) as session:
        assert live.open_captures(session=session, actor=coordinator) == []
        with pytest.raises(StateConflict, match="just published by coordinator"):
            live.complete_capture(
                session=session,
                actor=coordinator,
                practice_id=capture_id,
                data=complete,
                owner=clinic,
            )


def test_a_capture_changes_no_public_figure(engine, staff):
    before = uptake.headline_figures(engine)
    _capture(engine)
    _capture_from(engine, "192.0.2.7", "other@example.org", NOW)
    assert uptake.headline_figures(engine) == before


def test_a_capture_belongs_to_no_public_organisation_until_it_gets_its_owner(engine, staff):
    coordinator = staff["coordinator"]
    before = uptake.headline_figures(engine)
    assert before.organisations == 0  # Tallinn Clinic has no published practice
    first, second = _capture(engine), _capture(engine)
    forms = {capture: _form(engine, staff, capture) for capture in (first, second)}

    # The holding organisation of the captures is neither counted nor a possible owner.
    assert uptake.headline_figures(engine) == before
    held = CaptureOwner(organisation_id=_owner_of(engine, first))
    refused = pytest.raises(FieldError, match="choose an organisation of the list")
    with refused, db.session_scope(engine) as session:
        live.complete_capture(
            session=session, actor=coordinator, practice_id=first, data=forms[first], owner=held
        )

    new = CaptureOwner(
        new=True,
        organisation_name="Tartu Asthma Society",
        organisation_type="Patient or citizen organisation",
        organisation_country="Estonia",
    )
    with db.session_scope(engine) as session:
        live.complete_capture(
            session=session,
            actor=coordinator,
            practice_id=first,
            data=forms[first],
            owner=new,
        )
    after = uptake.headline_figures(engine)
    assert after.organisations == before.organisations + 1  # the new owner, nothing else
    assert after.published_practices == before.published_practices + 1
    with db.read_scope(engine) as session:
        owner = session.get(Organisation, session.get(Practice, first).owner_organisation_id)
        assert (owner.name, owner.country, owner.organisation_type) == (
            "Tartu Asthma Society", "EE", "patient-organisation",
        )  # fmt: skip
    again = CaptureOwner(
        new=True, organisation_name="tartu asthma society", organisation_country="EE"
    )
    taken = pytest.raises(FieldError, match="registered in Estonia already")
    with taken, db.session_scope(engine) as session:
        live.complete_capture(
            session=session, actor=coordinator, practice_id=second, data=forms[second], owner=again
        )


def _owner_of(engine, practice_id: int) -> int:
    with db.read_scope(engine) as session:
        return session.get(Practice, practice_id).owner_organisation_id


def _form(engine, staff, practice_id: int) -> PracticeCreate:
    with db.read_scope(engine) as session:
        form = live.capture_form(
            session=session, actor=staff["coordinator"], practice_id=practice_id
        )
    return _completed(form)


def test_the_owner_of_a_capture_is_either_chosen_or_new():
    def problems(**given) -> dict[str, str]:
        try:
            CaptureOwner(**given)
        except ValidationError as error:
            return field_errors(error)
        return {}

    assert problems() == {"organisation_id": "choose the organisation that owns the practice"}
    assert problems(new=True) == {
        "organisation_name": "name the new organisation",
        "organisation_country": "choose the new organisation's country",
    }
    assert problems(new=True, organisation_name="T", organisation_country="EE") == {
        "organisation_name": "name needs at least 2 characters"
    }
    listed = CaptureOwner(organisation_id=3, organisation_name="ignored")
    assert (listed.organisation_name, listed.new_organisation()) == (None, None)


def test_published_captures_of_the_holding_organisation_get_their_owner(engine, staff):
    """Captures published before an owner was required keep being shown; a coordinator gives
    each its real owner, and the holding organisation is never counted meanwhile."""
    coordinator = staff["coordinator"]
    before = uptake.headline_figures(engine)
    capture_id = _capture(engine)
    form = _form(engine, staff, capture_id)
    with db.session_scope(engine) as session:  # as the earlier version published captures
        practices._apply(session, session.get(Practice, capture_id), form, status="published")
    assert uptake.headline_figures(engine).organisations == before.organisations
    with db.read_scope(engine) as session:
        [unowned] = live.published_captures(session=session, actor=coordinator)
    assert unowned.id == capture_id

    with db.session_scope(engine) as session:
        live.assign_capture_owner(
            session=session,
            actor=coordinator,
            practice_id=capture_id,
            owner=CaptureOwner(organisation_id=coordinator.organisation_id),
        )
    with db.read_scope(engine) as session:
        assert live.published_captures(session=session, actor=coordinator) == []
        owner = session.get(Organisation, session.get(Practice, capture_id).owner_organisation_id)
    assert owner.name == "Tallinn Clinic"
    assert uptake.headline_figures(engine).organisations == before.organisations + 1
    conflict = pytest.raises(StateConflict, match="given its owner by coordinator")
    with conflict, db.session_scope(engine) as session:
        live.assign_capture_owner(
            session=session,
            actor=coordinator,
            practice_id=capture_id,
            owner=CaptureOwner(organisation_id=coordinator.organisation_id),
        )


def test_a_coordinator_discards_a_capture(engine, staff):
    capture_id = _capture(engine)
    with db.session_scope(engine) as session:
        live.discard_capture(session=session, actor=staff["coordinator"], practice_id=capture_id)
    with db.session_scope(engine) as session:
        assert session.get(Practice, capture_id).status == "rejected"
        assert live.open_captures(session=session, actor=staff["coordinator"]) == []


def test_only_coordinators_see_and_handle_captures(engine, staff):
    capture_id = _capture(engine)
    for actor in (None, staff["owner"]):
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            live.open_captures(session=session, actor=actor)
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            live.discard_capture(session=session, actor=actor, practice_id=capture_id)


def test_an_ordinary_practice_is_no_capture(engine, staff):
    with db.session_scope(engine) as session:
        draft = practices.save_draft(
            session=session, data=practices.PracticeDraft(title="Mine"), actor=staff["owner"]
        )
    with pytest.raises(LookupError), db.session_scope(engine) as session:
        live.discard_capture(session=session, actor=staff["coordinator"], practice_id=draft.id)


def test_the_demo_reset_is_refused_on_a_database_without_demo_data(engine, staff):
    with pytest.raises(demo.DemoError, match="only a demo database"):
        live.reset_demo_data(actor=staff["admin"], engine=engine)
    with db.session_scope(engine) as session:
        assert session.exec(select(User)).all() != []


def test_only_administrators_reset_the_demo_data(engine):
    demo.seed_demo(engine=engine, practices=demo.MIN_PRACTICES)
    with db.session_scope(engine) as session:
        coordinator = session.exec(select(User).where(User.role == "coordinator")).first()
        admin = session.exec(select(User).where(User.role == "admin")).first()
    with pytest.raises(PermissionDenied):
        live.reset_demo_data(actor=coordinator, engine=engine)
    with pytest.raises(PermissionDenied):
        live.reset_demo_data(actor=None, engine=engine)

    _capture(engine)
    summary = live.reset_demo_data(actor=admin, engine=engine)
    assert summary.practices == demo.MIN_PRACTICES
    assert db.is_demo(engine)
    with db.session_scope(engine) as session:
        actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert (
            session.exec(select(Organisation).where(Organisation.name == "Workshop captures")).all()
            == []
        )
    assert actions == ["demo.seed", "demo.reset"]


def _capture_from(engine, client: str, email: str, moment: datetime) -> None:
    with db.session_scope(engine) as session:
        live.capture_practice(
            session=session,
            data=CaptureCreate(**{**CAPTURE, "contact_email": email}),
            actor=visitor(),
            client=client,
            now=lambda: moment,
        )


def test_a_new_browser_session_does_not_reset_the_limit_per_email(engine):
    for minute in range(live.CAPTURE_LIMIT):
        # every capture from a fresh browser session (no earlier captures of its own)
        _capture_from(
            engine, f"192.0.2.{minute}", "same@example.org", NOW + timedelta(minutes=minute)
        )
    with pytest.raises(live.CaptureLimit, match="wait about 8 minutes"):
        _capture_from(engine, "192.0.2.99", "same@example.org", NOW + timedelta(minutes=2))
    _capture_from(engine, "192.0.2.99", "same@example.org", NOW + timedelta(minutes=11))


def test_a_new_browser_session_does_not_reset_the_limit_per_client_address(engine):
    uses = live.captures_per_address().uses
    assert uses == 20
    for number in range(uses):
        _capture_from(engine, "198.51.100.4", f"person{number}@example.org", NOW)
    with pytest.raises(live.CaptureLimit):
        _capture_from(engine, "198.51.100.4", "another@example.org", NOW + timedelta(minutes=1))
    _capture_from(engine, "198.51.100.5", "another@example.org", NOW + timedelta(minutes=1))
    with db.read_scope(engine) as session:
        assert len(session.exec(select(Practice)).all()) == uses + 1


def test_a_workshop_sets_the_limit_per_client_address_to_its_audience(engine, monkeypatch):
    """A room of 30 behind one address: DHU_CAPTURES_PER_ADDRESS=30 lets all of them send."""
    monkeypatch.setenv("DHU_CAPTURES_PER_ADDRESS", "30")
    get_settings.cache_clear()
    try:
        for number in range(30):
            _capture_from(engine, "198.51.100.4", f"person{number}@example.org", NOW)
        with pytest.raises(live.CaptureLimit):
            _capture_from(engine, "198.51.100.4", "another@example.org", NOW)
    finally:
        monkeypatch.delenv("DHU_CAPTURES_PER_ADDRESS")
        get_settings.cache_clear()
