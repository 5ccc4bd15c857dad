"""Twinning services: needs, matches, status changes, weight profiles (both databases)."""

import csv
import io

import openpyxl
import pytest
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import accounts, db, twinning
from dhu_core.accounts import PermissionDenied
from dhu_core.matching import DEFAULT_WEIGHTS, MatchingIndex
from dhu_core.models import (
    AuditEvent,
    FieldError,
    NeedTag,
    Organisation,
    Practice,
    PracticeTag,
    StateConflict,
    TwinningMatch,
    TwinningNeedCreate,
    field_errors,
)

NEED = dict(
    problem_statement="Heart failure patients are readmitted within weeks of discharge.",
    country="PT",
    twinning_type="partial adoption",
    practice_types=["service"],
    health_domains=["cardiovascular", "telehealth"],
    dhi_codes=["1.4.2"],
    languages=["pt", "en"],
    standards=["fhir"],
)


@pytest.fixture
def team(engine):
    """An adopter in Portugal, an originator in Estonia with one transferable practice."""
    with db.session_scope(engine) as session:
        adopter = Organisation(name="Porto Hospital", country="PT")
        originator = Organisation(name="Tartu Clinic", country="EE")
        other = Organisation(name="Graz Centre", country="AT")
        session.add_all([adopter, originator, other])
        session.flush()

        def make(name, role, organisation):
            return accounts.create_user(
                session=session,
                username=name,
                password="Long-enough-pw-1",
                role=role,
                email=f"{name}@example.org",
                organisation_id=organisation.id if organisation else None,
            )

        practice = Practice(
            title="Remote monitoring of heart failure patients at home",
            summary="Nurses follow daily weight and symptoms of heart failure patients.",
            practice_type="service",
            maturity=4,
            status="published",
            transferable=True,
            transfer_capacity=2,
            owner_organisation_id=originator.id,
        )
        session.add(practice)
        session.flush()
        session.add_all(
            PracticeTag(practice_id=practice.id, kind=kind, code=code)
            for kind, code in [
                ("domain", "cardiovascular"),
                ("dhi", "1.4.2"),
                ("standard", "fhir"),
                ("language", "en"),
                ("language", "et"),
            ]
        )
        return {
            "adopter": adopter.id,
            "originator": originator.id,
            "other": other.id,
            "practice": practice.id,
            "owner": make("adopter-owner", "owner", adopter),
            "originator_owner": make("originator-owner", "owner", originator),
            "stranger": make("stranger", "owner", other),
            "homeless": make("homeless", "owner", None),
            "coordinator": make("coordinator", "coordinator", other),
            "admin": make("admin", "admin", other),
        }


def new_need(engine, team, **changes):
    with db.session_scope(engine) as session:
        need = twinning.create_need(
            session=session, actor=team["owner"], data=TwinningNeedCreate(**{**NEED, **changes})
        )
        return need.id


def new_match(engine, team, **need_changes):
    need_id = new_need(engine, team, **need_changes)
    with db.session_scope(engine) as session:
        match = twinning.save_match(
            session=session,
            actor=team["coordinator"],
            need_id=need_id,
            practice_id=team["practice"],
            score=0.8,
            breakdown={"domain": 0.5, "language": 1.0},
        )
        return match.id


# --- needs -------------------------------------------------------------------------------


def test_an_owner_states_a_need_for_their_own_organisation(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        tags = session.exec(select(NeedTag.kind, NeedTag.code).where(NeedTag.need_id == need_id))
        assert ("domain", "telehealth") in set(tags)
        [need] = twinning.own_needs(session=session, actor=team["owner"])
        assert need.id == need_id
        assert need.organisation_id == team["adopter"]
        assert need.twinning_type == "partial-adoption"
        assert need.languages == ("en", "pt")
        assert twinning.own_needs(session=session, actor=team["stranger"]) == []
        events = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == need_id))
        assert "twinning.need_created" in set(events)


def test_an_owner_cannot_state_a_need_for_another_organisation(engine, team):
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        twinning.create_need(
            session=session,
            actor=team["owner"],
            data=TwinningNeedCreate(**NEED),
            organisation_id=team["other"],
        )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        data = TwinningNeedCreate(**NEED)
        twinning.create_need(session=session, actor=team["homeless"], data=data)


def test_a_coordinator_states_a_need_on_behalf_of_an_organisation(engine, team):
    with db.session_scope(engine) as session:
        need = twinning.create_need(
            session=session,
            actor=team["coordinator"],
            data=TwinningNeedCreate(**NEED),
            organisation_id=team["adopter"],
        )
        assert need.organisation_id == team["adopter"]
    with pytest.raises(FieldError) as error, db.session_scope(engine) as session:
        twinning.create_need(
            session=session,
            actor=team["coordinator"],
            data=TwinningNeedCreate(**NEED),
            organisation_id=999_999,
        )
    assert error.value.field == "organisation_id"


def test_a_need_gets_a_plain_message_for_each_wrong_field():
    with pytest.raises(ValidationError) as error:
        TwinningNeedCreate(
            **{**NEED, "problem_statement": "too short", "languages": ["xx"], "country": "Atlantis"}
        )
    messages = field_errors(error.value)
    assert messages["problem_statement"] == "problem statement needs at least 20 characters"
    assert "unknown language 'xx'" in messages["languages"]
    assert set(messages) == {"problem_statement", "languages", "country"}


def test_only_coordinators_see_every_need(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        assert len(twinning.all_needs(session=session, actor=team["coordinator"])) == 1
        assert twinning.get_need(session=session, actor=team["admin"], need_id=need_id)
        with pytest.raises(PermissionDenied):
            twinning.all_needs(session=session, actor=team["owner"])
        with pytest.raises(PermissionDenied):
            twinning.get_need(session=session, actor=team["stranger"], need_id=need_id)


# --- suggestions and interest ------------------------------------------------------------


def test_suggestions_come_with_reasons(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        [suggestion] = twinning.suggest_practices(
            session=session, actor=team["owner"], need_id=need_id
        )
    assert suggestion.practice.id == team["practice"]
    assert 0 < suggestion.candidate.score <= 1
    assert "both use HL7 FHIR" in suggestion.reasons
    assert "a transfer from Estonia to Portugal" in suggestion.reasons


def test_interest_keeps_the_match_suggested_and_is_recorded(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        match = twinning.express_interest(
            session=session, actor=team["owner"], need_id=need_id, practice_id=team["practice"]
        )
        assert match.status == "suggested"
        assert 0 < match.score <= 1
    with db.session_scope(engine) as session:
        [entry] = twinning.twinning_matches(session=session, actor=team["coordinator"])
        assert entry.interest
        seen_by_originator = twinning.twinning_matches(
            session=session, actor=team["originator_owner"]
        )
        assert [e.id for e in seen_by_originator] == [entry.id]
        assert twinning.twinning_matches(session=session, actor=team["stranger"]) == []
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        twinning.express_interest(
            session=session, actor=team["stranger"], need_id=need_id, practice_id=team["practice"]
        )


@pytest.mark.parametrize(
    "closed", [{"status": "archived"}, {"transferable": False}, {"maturity": 1}]
)
def test_a_practice_closed_since_the_index_is_neither_suggested_nor_taken(engine, team, closed):
    """The pages' index may be seconds older than the data: what is chosen from it is checked
    against the database."""
    need_id = new_need(engine, team)
    index = MatchingIndex.build(engine)
    with db.session_scope(engine) as session:
        practice = session.get(Practice, team["practice"])
        for field, value in closed.items():
            setattr(practice, field, value)
        session.add(practice)
    with db.session_scope(engine) as session:
        suggested = twinning.suggest_practices(
            session=session, actor=team["owner"], need_id=need_id, index=index
        )
        proposed = twinning.propose_allocation(
            session=session, actor=team["coordinator"], places=3, index=index
        )
    assert suggested == [] and proposed == []
    closed_since = pytest.raises(StateConflict, match="no longer open for twinning")
    with closed_since, db.session_scope(engine) as session:
        twinning.express_interest(
            session=session, actor=team["owner"], need_id=need_id,
            practice_id=team["practice"], index=index,
        )  # fmt: skip
    closed_since = pytest.raises(StateConflict, match="no longer open for twinning")
    with closed_since, db.session_scope(engine) as session:
        twinning.shortlist(
            session=session, actor=team["coordinator"], need_id=need_id,
            practice_id=team["practice"], score=0.5, breakdown={}, source="candidates",
        )  # fmt: skip
    with db.session_scope(engine) as session:
        assert session.exec(select(TwinningMatch)).all() == []


def test_interest_in_a_practice_opened_since_the_index_is_scored_as_it_is_now(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        session.get(Practice, team["practice"]).transferable = False
    index = MatchingIndex.build(engine)
    with db.session_scope(engine) as session:
        session.get(Practice, team["practice"]).transferable = True
    with db.session_scope(engine) as session:
        match = twinning.express_interest(
            session=session, actor=team["owner"], need_id=need_id,
            practice_id=team["practice"], index=index,
        )  # fmt: skip
        fresh = MatchingIndex.build(session)
        need = twinning.get_need(session=session, actor=team["owner"], need_id=need_id)
        assert match.score == pytest.approx(fresh.candidate(need, team["practice"]).score)


def test_a_match_is_saved_by_coordinators_only(engine, team):
    need_id = new_need(engine, team)
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        twinning.save_match(
            session=session,
            actor=team["owner"],
            need_id=need_id,
            practice_id=team["practice"],
            score=0.5,
            breakdown={},
        )
    with pytest.raises(ValueError), db.session_scope(engine) as session:
        twinning.save_match(
            session=session,
            actor=team["coordinator"],
            need_id=need_id,
            practice_id=team["practice"],
            score=1.5,
            breakdown={},
        )
    match_id = new_match(engine, team, problem_statement="Another problem statement, long enough.")
    with db.session_scope(engine) as session:
        match = session.get(TwinningMatch, match_id)
        assert (match.status, match.score, match.breakdown["language"]) == ("suggested", 0.8, 1.0)


# --- status changes ----------------------------------------------------------------------


def test_owners_cannot_agree_twinnings(engine, team):
    match_id = new_match(engine, team)
    for actor in ("owner", "originator_owner"):
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            twinning.set_match_status(
                session=session, actor=team[actor], match_id=match_id, status="shortlisted"
            )


def test_a_coordinator_follows_a_twinning_to_completion(engine, team):
    match_id = new_match(engine, team)
    steps = ["shortlisted", "agreed", "In transfer", "completed"]
    for step in steps:
        with db.session_scope(engine) as session:
            twinning.set_match_status(
                session=session,
                actor=team["coordinator"],
                match_id=match_id,
                status=step,
                note=f"now {step}",
            )
    with db.session_scope(engine) as session:
        match = session.get(TwinningMatch, match_id)
        assert (match.status, match.notes) == ("completed", "now completed")
        history = twinning.match_history(session=session, actor=team["owner"], match_id=match_id)
        changes = [e.detail for e in history if e.action == "twinning.status_changed"]
        assert [(c["old"], c["new"]) for c in changes] == [
            ("suggested", "shortlisted"),
            ("shortlisted", "agreed"),
            ("agreed", "in-transfer"),
            ("in-transfer", "completed"),
        ]
        assert changes[1]["note"] == "now agreed"
        assert all(e.actor_name == "coordinator" for e in history)
        with pytest.raises(PermissionDenied):
            twinning.match_history(session=session, actor=team["stranger"], match_id=match_id)


@pytest.mark.parametrize(
    "path, refused",
    [
        ([], "agreed"),
        ([], "completed"),
        (["shortlisted"], "in-transfer"),
        (["shortlisted"], "suggested"),
        (["declined"], "shortlisted"),
        (["shortlisted", "agreed", "in-transfer", "completed"], "declined"),
        ([], "finished"),
    ],
)
def test_invalid_transitions_are_refused(engine, team, path, refused):
    match_id = new_match(engine, team)
    for step in path:
        with db.session_scope(engine) as session:
            twinning.set_match_status(
                session=session, actor=team["admin"], match_id=match_id, status=step
            )
    with pytest.raises(FieldError) as error, db.session_scope(engine) as session:
        twinning.set_match_status(
            session=session, actor=team["admin"], match_id=match_id, status=refused
        )
    assert error.value.field == "status"
    with db.session_scope(engine) as session:
        assert session.get(TwinningMatch, match_id).status == (path[-1] if path else "suggested")


def test_any_open_twinning_can_be_declined(engine, team):
    match_id = new_match(engine, team)
    with db.session_scope(engine) as session:
        for step in ("shortlisted", "agreed", "declined"):
            twinning.set_match_status(
                session=session, actor=team["coordinator"], match_id=match_id, status=step
            )
        assert session.get(TwinningMatch, match_id).status == "declined"


# --- allocation and export ---------------------------------------------------------------


def test_an_accepted_allocation_pair_is_shortlisted(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        [pair] = twinning.propose_allocation(session=session, actor=team["coordinator"], places=3)
        assert (pair.need.id, pair.practice.id) == (need_id, team["practice"])
        match = twinning.shortlist(
            session=session,
            actor=team["coordinator"],
            need_id=pair.need.id,
            practice_id=pair.practice.id,
            score=pair.candidate.score,
            breakdown=pair.candidate.breakdown,
            source="allocation",
        )
        assert match.status == "shortlisted"
        [change] = [
            e
            for e in twinning.match_history(
                session=session, actor=team["coordinator"], match_id=match.id
            )
            if e.action == "twinning.status_changed"
        ]
        assert change.detail["note"] == "Accepted from the call's allocation."
        with pytest.raises(PermissionDenied):
            twinning.propose_allocation(session=session, actor=team["owner"], places=3)


def test_twinnings_export_as_flat_rows(engine, team):
    match_id = new_match(engine, team)
    with db.session_scope(engine) as session:
        twinning.set_match_status(
            session=session,
            actor=team["coordinator"],
            match_id=match_id,
            status="shortlisted",
            note="Call 2027",
        )
        [row] = twinning.twinnings_export_rows(session=session, actor=team["coordinator"])
        with pytest.raises(PermissionDenied):
            twinning.twinnings_export_rows(session=session, actor=team["owner"])
    assert row["adopter_organisation"] == "Porto Hospital"
    assert row["adopter_country"] == "PT"
    assert row["practice"] == "Remote monitoring of heart failure patients at home"
    assert (row["originator_organisation"], row["originator_country"]) == ("Tartu Clinic", "EE")
    assert (row["score"], row["status"], row["notes"]) == (0.8, "shortlisted", "Call 2027")
    assert row["need"].startswith("Heart failure patients")
    assert row["updated"]


def test_twinnings_export_keeps_a_formula_in_a_need_statement_as_text(engine, team):
    statement = '=HYPERLINK("http://evil.example","x")'
    need_id = new_need(engine, team, problem_statement=statement)
    with db.session_scope(engine) as session:
        twinning.save_match(
            session=session,
            actor=team["coordinator"],
            need_id=need_id,
            practice_id=team["practice"],
            score=0.8,
            breakdown={},
        )
        data = {
            fmt: twinning.twinnings_export(session=session, actor=team["coordinator"], fmt=fmt)
            for fmt in ("csv", "xlsx")
        }
        with pytest.raises(PermissionDenied):
            twinning.twinnings_export(session=session, actor=team["owner"], fmt="csv")

    sheet = openpyxl.load_workbook(io.BytesIO(data["xlsx"])).active
    assert [cell.value for cell in sheet[1]] == list(twinning.EXPORT_COLUMNS)
    cell = sheet.cell(row=2, column=twinning.EXPORT_COLUMNS.index("need") + 1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (statement, "s", True)
    row = dict(zip(*csv.reader(io.StringIO(data["csv"].decode("utf-8-sig"))), strict=True))
    assert row["need"] == "'" + statement
    assert row["practice"] == "Remote monitoring of heart failure patients at home"


# --- weight profiles ---------------------------------------------------------------------


def test_weight_profiles_are_saved_and_read_back(engine, team):
    weights = {**DEFAULT_WEIGHTS, "cross_border": 4.0, "text": 0.0}
    with db.session_scope(engine) as session:
        twinning.save_weight_profile(
            session=session, actor=team["coordinator"], name="Call 2027", weights=weights
        )
        twinning.save_weight_profile(
            session=session, actor=team["admin"], name="Languages first", weights={"language": 1}
        )
    with db.session_scope(engine) as session:
        profiles = twinning.weight_profiles(session=session, actor=team["coordinator"])
        assert [p.name for p in profiles] == ["Call 2027", "Languages first"]
        assert profiles[0].weights == weights
        assert profiles[1].weights["language"] == 1.0
        assert profiles[1].weights["domain"] == 0.0
    with db.session_scope(engine) as session:
        twinning.save_weight_profile(
            session=session, actor=team["coordinator"], name="call  2027", weights={"text": 1}
        )
    with db.session_scope(engine) as session:
        profiles = twinning.weight_profiles(session=session, actor=team["admin"])
        assert [p.name for p in profiles] == ["call 2027", "Languages first"]
        assert profiles[0].weights["text"] == 1.0


def test_weight_profiles_are_checked_and_kept_from_owners(engine, team):
    for name, weights, field in [
        ("x", DEFAULT_WEIGHTS, "name"),
        ("Colour", {"colour": 1.0}, "weights"),
        ("Nothing", {"domain": 0.0}, "weights"),
        ("Negative", {"domain": -1.0}, "weights"),
    ]:
        with pytest.raises(FieldError) as error, db.session_scope(engine) as session:
            twinning.save_weight_profile(
                session=session, actor=team["coordinator"], name=name, weights=weights
            )
        assert error.value.field == field
    with db.session_scope(engine) as session:
        with pytest.raises(PermissionDenied):
            twinning.save_weight_profile(
                session=session, actor=team["owner"], name="Mine", weights=DEFAULT_WEIGHTS
            )
        with pytest.raises(PermissionDenied):
            twinning.weight_profiles(session=session, actor=team["owner"])


def test_a_pair_shortlisted_from_the_candidates_says_so_in_its_history(engine, team):
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        match = twinning.shortlist(
            session=session,
            actor=team["coordinator"],
            need_id=need_id,
            practice_id=team["practice"],
            score=0.7,
            breakdown={"domain": 1.0},
            source="candidates",
        )
        events = twinning.match_history(
            session=session, actor=team["coordinator"], match_id=match.id
        )
    lines = [twinning.describe(event) for event in events]
    assert lines == [
        "Kept as a suggestion, scored 70%",
        "Suggested → Shortlisted: “Shortlisted from the need's ranked candidates.”",
    ]
    assert not any("twinning." in line or "allocation" in line for line in lines)


def test_the_same_need_stated_twice_is_refused_next_to_the_statement(engine, team):
    first = new_need(engine, team)
    again = {**NEED, "problem_statement": "  heart failure PATIENTS are readmitted within "
             "weeks of discharge. "}  # fmt: skip
    with pytest.raises(FieldError) as error, db.session_scope(engine) as session:
        twinning.create_need(session=session, actor=team["owner"], data=TwinningNeedCreate(**again))
    assert "stated this need already" in field_errors(error.value)["problem_statement"]
    elsewhere = TwinningNeedCreate(**{**NEED, "country": "ES"})
    with db.session_scope(engine) as session:
        assert (
            twinning.create_need(session=session, actor=team["owner"], data=elsewhere).id != first
        )


def test_coordinators_filter_open_needs_by_country_organisation_words_and_progress(engine, team):
    heart = new_need(engine, team)
    diabetes = new_need(
        engine, team, problem_statement="Diabetes patients need help with insulin doses.",
        country="ES",
    )  # fmt: skip
    with db.session_scope(engine) as session:
        twinning.shortlist(
            session=session,
            actor=team["coordinator"],
            need_id=heart,
            practice_id=team["practice"],
            score=0.7,
            breakdown={},
            source="candidates",
        )

    def found(**query) -> list[int]:
        with db.read_scope(engine) as session:
            needs = twinning.find_needs(
                session=session, actor=team["coordinator"], query=twinning.NeedQuery(**query)
            )
        return [need.id for need in needs]

    assert found() == [diabetes, heart]
    assert found(countries=("ES",)) == [diabetes]
    assert found(text="insulin DOSES") == [diabetes]
    assert found(text="porto hospital heart") == [heart]
    assert found(organisation_ids=(team["other"],)) == []
    assert found(progress="shortlisted") == [heart]
    assert found(progress="untwinned") == [diabetes]
    assert found(progress="twinned") == []
    with pytest.raises(PermissionDenied), db.read_scope(engine) as session:
        twinning.find_needs(session=session, actor=team["owner"], query=twinning.NeedQuery())


def test_the_needs_filter_survives_any_url():
    query = twinning.NeedQuery.from_params(
        {"need_q": ["  copd  "], "need_country": ["ee,XX", "pt"], "need_org": ["7", "x"],
         "need_progress": ["nonsense"]}
    )  # fmt: skip
    assert query == twinning.NeedQuery(text="copd", countries=("EE", "PT"), organisation_ids=(7,))
    assert twinning.NeedQuery.from_params(query.to_params()) == query
