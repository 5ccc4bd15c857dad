"""Browser: a full call, every step through the pages of one server. A coordinator drafts and
publishes a call; an adopter applies with a suggested practice that its originator confirms;
the call closes; two evaluators score; the coordinator records the consensus and awards; the
pair does the milestones, uploads its final report and writes the lessons learned, which the
coordinator publishes; a visitor finds them in the knowledge community."""

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import TimeoutError, expect
from sqlmodel import select

from dhu_core import db, twinning
from dhu_core.calls import calls
from dhu_core.matching import MatchingIndex
from dhu_core.models import (
    LESSONS_PARTS,
    Call,
    LessonsCase,
    Practice,
    TwinningNeedCreate,
    utcnow,
)
from tests import call_world, follow_world
from tests.browser import ARTIFACTS, settle, sign_in
from tests.people import PASSWORD, account

pytestmark = pytest.mark.browser

#: How long one step may take on a busy machine (a rerun, a page, a sign-in).
STEP = 60_000
NEED = (
    "Our cardiology ward wants nurse-led telemonitoring of heart failure patients at home, "
    "with daily weight and blood pressure readings sent from a tablet to the ward's nurses."
)
PRACTICE = "Nurse-led telemonitoring of heart failure patients at home"
REPORT = b"Final report: twelve months of nurse-led telemonitoring in Odense.\n"


def _world(database) -> dict:
    """The people of the call beside the demo data: an adopter with an open need, an
    originator whose practice the platform suggests for it, two evaluators and a coordinator."""
    engine = db.get_engine(f"sqlite:///{database}")
    with db.session_scope(engine) as session:
        home = call_world.organisation(session, "Odense Hospital", "DK")
        origin = call_world.organisation(session, "Lisbon Health Lab", "PT")
        adopter = account(session, "full-ane", "owner", home)
        account(session, "full-rui", "owner", origin)
        account(session, "full-cleo", "coordinator")
        account(session, "full-eva", "evaluator")
        account(session, "full-otto", "evaluator")
        practice = session.get(Practice, call_world.practice(session, origin, PRACTICE))
        practice.summary = NEED.replace("Our cardiology ward wants", "Lisbon runs")
        practice.transferable, practice.transfer_capacity = True, 1
        session.add(practice)
        need = twinning.create_need(
            session=session,
            actor=adopter,
            data=TwinningNeedCreate(problem_statement=NEED, country="DK"),
        )
        suggested = twinning.suggest_practices(
            session=session, actor=adopter, need_id=need.id, index=MatchingIndex.build(session)
        )
        assert practice.id in [s.practice.id for s in suggested], "the practice is not suggested"
        latest = [c.model_dump() for c in calls.latest_criteria(session)]
        return {"engine": engine, "practice": practice.id, "need": need.id, "criteria": latest}


@pytest.fixture
def people(chromium, demo_server, request) -> Iterator:
    """Signs a person in, in a browser of their own; every page is kept as a screenshot when
    the test fails."""
    url, _ = demo_server
    pages = {}

    def signed_in(username: str | None):
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(STEP)
        if username is not None:
            sign_in(page, url, username, PASSWORD)
        pages[username or "visitor"] = page
        return page

    yield signed_in
    failed = request.node.rep_call.failed if hasattr(request.node, "rep_call") else False
    for name, page in pages.items():
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"full-call-{name}.png", full_page=True)
            (ARTIFACTS / f"full-call-{name}.txt").write_text(page.locator("body").inner_text())
        page.context.close()


def _open(page, address: str, text: str) -> None:
    """Go to `address`, wait until `text` shows and the runs of the page's loading (the
    session cookie's among them) are over."""
    page.goto(address)
    expect(page.get_by_text(text, exact=True).first).to_be_visible(timeout=STEP)
    settle(page)


def _click(page, button: str, result: str, within=None) -> None:
    """Click `button`, wait for the `result` text of the rerun it starts and for that run to
    end (a click during a run can land on an element the run is replacing)."""
    (within or page).get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_text(result).first).to_be_visible(timeout=STEP)
    settle(page)


def _again_if_lost(page, act, done) -> None:
    """`act()` until the expectation `done(timeout)` holds, three times at most: on a loaded
    machine a click can land while a run is replacing what was clicked, and is lost, as a
    person would see and do again."""
    for _attempt in range(3):
        settle(page)
        act()
        try:
            done(STEP // 4)
            break
        except AssertionError:
            continue
    done(STEP)
    settle(page)


def _click_again_if_lost(page, within, button: str, result: str) -> None:
    """`_click`, clicking again while the button is there and nothing came of a click (a slow
    click that did its work takes the button away)."""
    target = within.get_by_role("button", name=button, exact=True)
    shown = page.get_by_text(result).first
    _again_if_lost(
        page,
        lambda: target.click() if target.is_visible() else None,
        lambda timeout: expect(shown).to_be_visible(timeout=timeout),
    )


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the select box or multiselect labelled `label`; a rerun that redraws
    the box closes its list, which is then opened again."""
    for _attempt in range(3):
        page.get_by_label(label, exact=True).click()
        page.keyboard.type(option)
        choice = page.get_by_role("option", name=option).first
        try:
            choice.wait_for(timeout=STEP // 3)
        except TimeoutError:
            page.keyboard.press("Control+A")
            page.keyboard.press("Backspace")
            continue
        choice.click()
        return
    raise AssertionError(f"{option} is never offered in {label}")


def _type_date(page, label: str, day: date) -> None:
    """Type `day` into the year, month and day of the date field labelled `label`."""
    for part, value in (("year", f"{day:%Y}"), ("month", f"{day:%m}"), ("day", f"{day:%d}")):
        segment = page.get_by_role("spinbutton", name=f"{part}, {label}")
        segment.click()
        page.keyboard.type(value)
    field = page.get_by_role("group", name=label)
    expect(field).to_contain_text(f"{day:%d}")


def _upload_of_a_file(response) -> bool:
    return "/_stcore/upload_file/" in response.url and response.request.method == "PUT"


def _score(page, criteria: list[str], score: str) -> None:
    """Score every criterion with a comment."""
    for criterion in criteria:
        field = page.get_by_label(f"Score of {criterion} (0 to 5)")
        field.fill(score)
        field.press("Enter")
        expect(field).to_have_value(score)
        comment = page.get_by_label(f"Comment on {criterion}")
        comment.fill(f"{criterion}: scored {score} after reading the plan.")
        expect(comment).to_have_value(re.compile("scored"))


@pytest.mark.timeout(600)
def test_a_full_call_from_its_publication_to_the_lessons_learned(demo_server, people):
    url, database = demo_server
    world = _world(database)

    coordinator = people("full-cleo")
    _open(coordinator, url + "/calls", "Open calls")
    coordinator.locator("summary").filter(has_text="Draft a new call").click()
    coordinator.get_by_role("textbox", name="Title *").fill("Twinning for telemonitoring 2027")
    coordinator.get_by_role("textbox", name="Description *").fill(
        "Five places for hospitals that take up telemonitoring of heart failure at home."
    )
    _type_date(coordinator, "Opens on (UTC) *", date.today() - timedelta(days=1))
    # The criteria start from the last call's (the demo's): the coordinator keeps them.
    _click(coordinator, "Save the draft", "The draft is saved")
    coordinator.wait_for_url(re.compile(r"call=\d+"))
    call_id = int(re.search(r"call=(\d+)", coordinator.url).group(1))
    with db.read_scope(world["engine"]) as session:
        saved = session.get(Call, call_id).criteria
    assert saved == world["criteria"]
    criteria = [c["name"] for c in saved]
    _click(coordinator, "Publish the call", "The call is published")
    call_page = f"{url}/calls?call={call_id}"

    adopter = people("full-ane")
    _open(adopter, call_page, "Your organisation's application")
    # The platform's three best suggestions come chosen: the adopter clears them and saves
    # (a draft may have no practice yet), then chooses its own.
    expect(adopter.get_by_label("Preferred practices *", exact=True)).to_be_visible()
    clear_all = adopter.get_by_test_id("stMultiSelect").get_by_role("button", name="Clear all")
    if clear_all.count():
        clear_all.click()
    _click(adopter, "Save the draft", "Your draft is saved.")
    _choose(adopter, "Preferred practices *", PRACTICE)
    # A click beside it closes the list of practices (Escape would empty the choice).
    adopter.get_by_role("heading", name="Your organisation's application").click()
    adopter.get_by_role("textbox", name="Motivation").fill("Our nurses are ready by May.")
    _click(adopter, "Save the draft", f"{PRACTICE} (Lisbon Health Lab): pending")

    originator = people("full-rui")
    _open(originator, call_page, "Applications that chose your practices")
    _click(originator, "Confirm", "Your answer is saved: confirmed.")

    # The adopter's page still holds its draft: it submits it now that the originator agreed.
    _click(adopter, "Submit the application", "Your application is submitted.")

    # The app reads the server's clock and has no test clock: the call closes by moving its
    # closing time to a minute ago, as the call page tests do (tests/test_call_award_page.py).
    with db.session_scope(world["engine"]) as session:
        call = session.get(Call, call_id)
        call.closes_at = utcnow() - timedelta(minutes=1)
        session.add(call)

    _open(coordinator, call_page, "Evaluation")
    for evaluator in ("full-eva", "full-otto"):
        _choose(coordinator, "Evaluator to assign", evaluator)
        _click(coordinator, "Assign", f"{evaluator} is assigned.")

    for number, evaluator in enumerate(("full-eva", "full-otto")):
        scorer = people(evaluator)
        _open(scorer, url + "/evaluation", "Evaluation")
        scorer.get_by_role("link", name="Odense Hospital").click()
        expect(scorer.get_by_text("Your scores", exact=True)).to_be_visible(timeout=STEP)
        _score(scorer, criteria, str(4 - number))
        _click(scorer, "Submit the scores", "Your scores are submitted.")

    _open(coordinator, call_page, "Record the consensus")
    section = coordinator.get_by_test_id("stExpander").filter(has_text="Record the consensus")
    for criterion in criteria:
        section.get_by_label(f"Comment on {criterion}").fill(f"Agreed on {criterion}.")
    section.get_by_label("Overall comment").fill("A convincing plan.")
    _click(coordinator, "Record the consensus", "The consensus of Odense Hospital is recorded.")

    _open(coordinator, call_page + "&tab=award", "Proposed award")
    coordinator.get_by_text("The award is final").click()
    _click(coordinator, "Award the call", "every applicant has its decision")

    _open(adopter, call_page, "Decision")
    expect(adopter.get_by_text(f"Your twinning with {PRACTICE} is agreed")).to_be_visible()
    _open(adopter, url + "/follow-up", "Twinning follow-up")
    adopter.get_by_role("link", name=re.compile(PRACTICE)).click()
    expect(adopter.get_by_role("tab", name="Work plan")).to_be_visible(timeout=STEP)
    adopter.wait_for_url(re.compile(r"[?&]twinning=\d+"))
    match_id = int(re.search(r"twinning=(\d+)", adopter.url).group(1))
    # The runs that put the twinning in the address are over before the first click: a click
    # during a run can land on a button the run is replacing, and nothing happens.
    settle(adopter)
    for milestone in ("Kick-off", "Study visit", "Adaptation", "Pilot", "Final report"):
        box = adopter.get_by_test_id("stExpander").filter(has_text=f"Mark “{milestone}” done")
        box.locator("summary").click()
        expect(box.get_by_role("button", name="Mark done", exact=True)).to_be_visible()
        _click_again_if_lost(adopter, box, "Mark done", f"{milestone} is done.")

    # A rerun may show the first tab again: the tab is chosen before each step in it.
    reports = adopter.get_by_role("tab", name="Reports")
    final = adopter.get_by_role("radio", name="Final report")

    def choose_the_final_report() -> None:
        reports.click()
        adopter.get_by_test_id("stRadio").get_by_text("Final report").click()

    # The run the choice started is over before the file goes up.
    _again_if_lost(
        adopter,
        choose_the_final_report,
        lambda timeout: expect(final).to_be_checked(timeout=timeout),
    )
    # The button is pressed only once the file has reached the server, and the run its upload
    # starts is over: the chip shows the file's name as soon as it is chosen.
    with adopter.expect_response(_upload_of_a_file, timeout=STEP):
        adopter.locator("input[type=file]").set_input_files(
            {"name": "final-report.txt", "mimeType": "text/plain", "buffer": REPORT}
        )
    expect(adopter.get_by_test_id("stFileChipName")).to_have_text("final-report.txt")
    settle(adopter)
    reports.click()
    _click(adopter, "Upload the report", "The report is uploaded.")
    reports.click()
    expect(
        adopter.get_by_role("button", name=re.compile("Final report: final-report.txt"))
    ).to_be_visible()

    # Each text typed reruns the page when it loses focus: the tab stays open, as the address
    # says which one it is.
    adopter.get_by_role("tab", name="Lessons learned").click()
    adopter.wait_for_url(re.compile(r"[?&]tab=lessons"))
    case = follow_world.lessons_input()
    for part, label in LESSONS_PARTS.items():
        field = adopter.get_by_role("textbox", name=f"{label} *")
        field.fill(getattr(case, part))
        field.press("Tab")
        expect(field).to_have_value(getattr(case, part))
    _click(adopter, "Save the case", "The case is saved.")
    expect(adopter.get_by_role("tab", name="Lessons learned")).to_have_attribute(
        "aria-selected", "true"
    )

    # A coordinator opens the same tab from its address.
    _open(coordinator, f"{url}/follow-up?twinning={match_id}&tab=lessons", "Work plan")
    _click(coordinator, "Publish the case", "The case is published and the twinning completed.")

    visitor = people(None)
    _open(visitor, url + "/knowledge", "Knowledge community")
    visitor.get_by_role("tab", name="Lessons from twinnings").click()
    search = visitor.get_by_role("textbox", name="Search the lessons")
    search.fill("triage thresholds")
    search.press("Enter")
    found = visitor.get_by_role("link", name=re.compile(f"Lessons from twinning {PRACTICE}"))
    found.click()
    expect(visitor.get_by_role("heading", name=f"Lessons from twinning {PRACTICE}")).to_be_visible(
        timeout=STEP
    )
    expect(visitor.get_by_text(case.outcome)).to_be_visible()
    with db.read_scope(world["engine"]) as session:
        published = session.exec(
            select(LessonsCase.id).where(LessonsCase.match_id == match_id)
        ).one()
    assert re.search(rf"[?&]case={published}\b", visitor.url)
