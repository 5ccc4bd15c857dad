"""Views of following a twinning: the coordinators' dashboard, one twinning's work plan,
technical assistance, reports and lessons-learned case (`/follow-up?twinning=ID`), and the
published cases in the knowledge community (`/knowledge?case=ID`) and on practices' pages.
All user text escaped."""

import math
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import streamlit as st
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from dhu_core import db, geo, taxonomy
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import follow_up, lessons
from dhu_core.config import get_settings
from dhu_core.i18n import _, format_number, ngettext
from dhu_core.models import (
    LESSONS_PARTS,
    AssistanceInput,
    FieldError,
    LessonsInput,
    Milestone,
    StateConflict,
    User,
    field_errors,
)
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import cached, forms, shell

PAGE = "app_pages/follow_up.py"
KNOWLEDGE = "app_pages/knowledge.py"
MESSAGE = "follow_up_message"
ASSISTANCE_FORM = "assistance"
REPORT_FORM = "report"
CASE_FORM = "lessons"
ASSISTANCE_LABELS = {"held_on": "Held on", "topic": "Topic", "hours": "Hours", "notes": "Notes"}
REPORT_LABELS = {"kind": "Kind of report", "file": "File"}
M = TypeVar("M", bound=BaseModel)
#: Streamlit's upload limits are in megabytes: rounded up, never below the report limit.
MEGABYTE = 1_000_000


def _done(message: str) -> None:
    st.session_state[MESSAGE] = message
    st.rerun()


def _change(action: Callable[[Session], object], message: str, form: str | None = None) -> None:
    """Run one service call in a write transaction: success reruns with `message`; a field's
    problem shows next to it (in `form`), a refusal as a warning."""
    try:
        with db.session_scope() as session:
            action(session)
    except (ValidationError, FieldError) as error:
        messages = {k: md_escape(v) for k, v in field_errors(error).items()}
        if form is None:
            st.error(" ".join(messages.values()).capitalize(), icon=":material/error:")
        else:
            forms.show_errors_and_rerun(form, messages)
    except (StateConflict, PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        if form is not None:
            forms.clear_errors(form)
        _done(message)


def _validated(form: str, model: type[M], values: dict) -> M:
    """`values` checked by `model`; else their messages shown next to the fields of `form`."""
    try:
        return model(**values)
    except ValidationError as error:
        forms.show_errors_and_rerun(form, field_errors(error), model=model, values=values)
        raise  # not reached: showing the errors reruns the page


def _form(name: str, seen: follow_up.FollowUp) -> str:
    """The name of a form of one twinning: its fields' values and messages stay with that
    twinning when another one is opened."""
    return f"{name}-{seen.twinning.id}"


def link(summary: follow_up.TwinningSummary) -> None:
    """A link to a twinning's follow-up page."""
    st.page_link(
        PAGE,
        label=f"**{md_escape(summary.practice)}** → {md_escape(summary.adopter)}",
        query_params={"twinning": str(summary.id)},
        icon=":material/flag:",
    )


def _next_step(summary: follow_up.TwinningSummary) -> str:
    status = taxonomy.MATCH_STATUSES.label(summary.status)
    if not summary.planned:
        return f"{status} · no work plan yet"
    milestone = summary.next_milestone
    if milestone is None:
        return f"{status} · every milestone done"
    next_one = (
        f"next: {taxonomy.MILESTONE_KINDS.label(milestone.kind)} due {milestone.due_on:%d %b %Y}"
    )
    late = f" · :red[**{summary.late} late**]" if summary.late else ""
    return f"{status} · {next_one}{late}"


def twinning_list(summaries: list[follow_up.TwinningSummary], empty: str) -> None:
    """Twinnings, each with its link and next step; late ones flagged."""
    if not summaries:
        st.info(empty)
    for summary in summaries:
        with st.container(border=True):
            link(summary)
            st.markdown(
                f"{md_escape(summary.originator)} → {md_escape(summary.adopter)}  \n"
                f"{_next_step(summary)}"
            )


def dashboard(user: User) -> None:
    """The coordinators' dashboard: every twinning under way, late ones first."""
    with db.read_scope() as session:
        rows = follow_up.dashboard(session=session, actor=user)
    late = sum(1 for row in rows if row.late)
    st.caption(
        f"{len(rows)} twinning{'' if len(rows) == 1 else 's'} under way · {late} with late "
        "milestones"
    )
    twinning_list(rows, "No twinning is under way.")


def own_twinnings(user: User) -> None:
    """The twinnings of the user's organisation, to follow."""
    with db.read_scope() as session:
        rows = follow_up.own_twinnings(session=session, actor=user)
    twinning_list(rows, "Your organisation has no agreed twinning yet.")


def twinning_page(user: User, match_id: int) -> None:
    """One twinning's follow-up, for the pair and coordinators."""
    try:
        with db.read_scope() as session:
            seen = follow_up.follow_up(session=session, actor=user, match_id=match_id)
    except (PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/block:")
        return
    summary = seen.twinning
    shell.tab_title(summary.practice, "Follow-up")
    st.header(md_escape(summary.practice), anchor=False)
    st.caption(
        f"{md_escape(summary.originator)} → {md_escape(summary.adopter)} · "
        f"{taxonomy.MATCH_STATUSES.label(summary.status)}"
    )
    coordinator = follow_up.is_coordinator(user)
    # Bound to the address (`&tab=Reports`): the tab stays open when a form reruns the page,
    # and a link can open it.
    plan, assistance, reports, case = st.tabs(
        ["Work plan", "Technical assistance", "Reports", "Lessons learned"],
        key="tab",
        bind="query-params",
    )
    with plan:
        _work_plan(user, seen, coordinator)
    with assistance:
        _assistance(user, seen, coordinator)
    with reports:
        _reports(user, seen)
    with case:
        _case(user, seen, coordinator)


def _work_plan(user: User, seen: follow_up.FollowUp, coordinator: bool) -> None:
    if not seen.milestones:
        st.info("This twinning has no work plan yet.")
        if coordinator and seen.twinning.status in follow_up.UNDER_WAY:
            key = f"plan-{seen.twinning.id}"
            start = st.date_input("Start of the work plan", value=seen.today, key=f"{key}-start")
            if st.button("Make the work plan", type="primary", key=f"{key}-make"):
                _change(
                    lambda s: follow_up.start_work_plan(
                        session=s, actor=user, match_id=seen.twinning.id, start=start
                    ),
                    "The work plan is made.",
                )
        return
    for milestone in seen.milestones:
        with st.container(border=True):
            _milestone(user, seen, milestone, coordinator)


def _milestone(user: User, seen, milestone: Milestone, coordinator: bool) -> None:
    label = taxonomy.MILESTONE_KINDS.label(milestone.kind)
    if milestone.done_on is not None:
        state = f":green[done {milestone.done_on:%d %b %Y}]"
    elif seen.late(milestone):
        state = ":red[**late**]"
    else:
        state = "to do"
    st.markdown(f"**{label}** · due {milestone.due_on:%d %b %Y} · {state}")
    if milestone.note:
        st.caption(md_escape(milestone.note))
    key = f"milestone-{milestone.id}"
    if seen.twinning.status not in follow_up.UNDER_WAY:
        return
    if milestone.done_on is None:
        with st.expander(f"Mark “{label}” done"):
            done_on = st.date_input("Done on", value=seen.today, key=f"{key}-done")
            note = st.text_input("Note", key=f"{key}-note", max_chars=follow_up.MAX_NOTE)
            if st.button("Mark done", key=f"{key}-mark"):
                _change(
                    lambda s: follow_up.mark_milestone_done(
                        session=s,
                        actor=user,
                        milestone_id=milestone.id,
                        done_on=done_on,
                        version=milestone.version,
                        note=note,
                    ),  # fmt: skip
                    f"{label} is done.",
                )
    if coordinator:
        with st.expander(f"Change the due date of “{label}”"):
            due_on = st.date_input("Due on", value=milestone.due_on, key=f"{key}-due")
            if st.button("Change the date", key=f"{key}-move"):
                _change(
                    lambda s: follow_up.reschedule_milestone(
                        session=s,
                        actor=user,
                        milestone_id=milestone.id,
                        due_on=due_on,
                        version=milestone.version,
                    ),  # fmt: skip
                    f"{label} is now due on {due_on:%d %B %Y}.",
                )


def _assistance(user: User, seen: follow_up.FollowUp, coordinator: bool) -> None:
    if not seen.sessions:
        st.caption("No technical-assistance session yet.")
    for held in seen.sessions:
        with st.container(border=True):
            st.markdown(f"**{md_escape(held.topic)}** · {held.held_on:%d %b %Y} · {held.hours:g} h")
            if held.notes:
                st.markdown(md_escape_paragraphs(held.notes))
    if not coordinator:
        return
    st.subheader("Log a session", anchor=False)
    form, values = _form(ASSISTANCE_FORM, seen), {}
    with forms.field(form, "held_on"):
        values["held_on"] = st.date_input("Held on *", value=seen.today, key=f"{form}-held")
    with forms.field(form, "topic"):
        values["topic"] = st.text_input("Topic *", key=f"{form}-topic")
    with forms.field(form, "hours"):
        values["hours"] = st.number_input(
            "Hours *", min_value=0.0, max_value=100.0, step=0.5, key=f"{form}-hours"
        )
    with forms.field(form, "notes"):
        values["notes"] = st.text_area("Notes", key=f"{form}-notes")
    forms.revalidate(form, values)
    pressed = st.button("Log the session", type="primary", key=f"{form}-log")
    forms.error_summary(form, ASSISTANCE_LABELS)
    if pressed:
        data = _validated(form, AssistanceInput, values)
        _change(
            lambda s: follow_up.log_assistance(
                session=s, actor=user, match_id=seen.twinning.id, data=data
            ),
            "The session is logged.",
            form,
        )


def _download(user: User, report_id: int) -> bytes:
    # Runs when the button is clicked, outside the page's run: it checks and audits the download.
    with db.session_scope() as session:
        return follow_up.download_report(session=session, actor=user, report_id=report_id).content


def _reports(user: User, seen: follow_up.FollowUp) -> None:
    if not seen.reports:
        st.caption("No report yet.")
    for report in seen.reports:
        kind = taxonomy.REPORT_KINDS.label(report.kind)
        st.download_button(
            f"{kind}: {md_escape(report.filename)} ({follow_up.file_size(report.size)}, "
            f"{report.uploaded_at:%d %b %Y})",
            data=partial(_download, user, report.id),
            file_name=report.filename,
            mime=report.content_type,
            key=f"report-{report.id}",
            on_click="ignore",
            icon=":material/download:",
        )
    if seen.twinning.status not in follow_up.UNDER_WAY:
        return
    st.subheader("Upload a report", anchor=False)
    limit = get_settings().dhu_report_max_bytes
    st.caption(f"A PDF or a plain-text file, at most {follow_up.file_size(limit)}.")
    form = _form(REPORT_FORM, seen)
    kind = st.radio(
        "Kind of report", options=list(taxonomy.REPORT_KINDS),
        format_func=taxonomy.REPORT_KINDS.label, horizontal=True, key=f"{form}-kind",
    )  # fmt: skip
    with forms.field(form, "file"):
        # The browser refuses a larger file before sending it; the service checks it again.
        upload = st.file_uploader(
            "File *", key=f"{form}-file", max_upload_size=math.ceil(limit / MEGABYTE)
        )
    pressed = st.button("Upload the report", type="primary", key=f"{form}-upload")
    forms.error_summary(form, REPORT_LABELS)
    if pressed:
        if upload is None:
            forms.show_errors_and_rerun(form, {"file": "choose a file to upload"})
            return
        _change(
            lambda s: follow_up.upload_report(
                session=s,
                actor=user,
                match_id=seen.twinning.id,
                kind=kind,
                filename=upload.name,
                content=upload.getvalue(),
            ),  # fmt: skip
            "The report is uploaded.",
            form,
        )


def _case(user: User, seen: follow_up.FollowUp, coordinator: bool) -> None:
    case = seen.case
    if case is not None and case.status == "published":
        st.success("The lessons learned are published in the knowledge community.")
        st.page_link(
            KNOWLEDGE, label="Open the published case", query_params={"case": str(case.id)}
        )
        return
    st.caption(
        "Turn the final report into a case others can learn from. A coordinator publishes it to "
        "the knowledge community once the final report is uploaded; the twinning is then "
        "completed."
    )
    state, form = st.session_state, _form(CASE_FORM, seen)
    values = {}
    for part, label in LESSONS_PARTS.items():
        key = f"case-{seen.twinning.id}-{part}"
        if key not in state and case is not None:
            state[key] = getattr(case, part)
        with forms.field(form, part):
            values[part] = st.text_area(f"{label} *", key=key, max_chars=5000)
    forms.revalidate(form, values)
    left, right = st.columns(2)
    save = left.button("Save the case", type="primary", key=f"{form}-save")
    publish = (
        coordinator and case is not None and right.button("Publish the case", key=f"{form}-publish")
    )
    forms.error_summary(form, dict(LESSONS_PARTS))
    if save:
        data = _validated(form, LessonsInput, values)
        _change(
            lambda s: lessons.save_case(
                session=s,
                actor=user,
                match_id=seen.twinning.id,
                data=data,
                version=case.version if case else None,
            ),  # fmt: skip
            "The case is saved.",
            form,
        )
    if publish:
        _change(
            lambda s: lessons.publish_case(
                session=s, actor=user, match_id=seen.twinning.id, version=case.version
            ),
            "The case is published and the twinning completed.",
            form,
        )


# --- published cases -----------------------------------------------------------------------


def _origin(case: lessons.CaseView) -> str:
    return (
        f"{md_escape(case.originator)} ({geo.country_name(case.originator_country)}) → "
        f"{md_escape(case.adopter)} ({geo.country_name(case.adopter_country)})"
    )


def case_link(case: lessons.CaseView) -> None:
    """A link to a published case's own page."""
    st.page_link(
        KNOWLEDGE,
        label=f"Lessons from twinning **{md_escape(case.practice)}** → {md_escape(case.adopter)}",
        query_params={"case": str(case.id)},
        icon=":material/school:",
    )


def case(found: lessons.CaseView | None) -> None:
    """A published case as a page of its own (`/knowledge?case=ID`)."""
    if found is None:
        st.warning("This case does not exist or is not published.")
        return
    shell.tab_title(f"Lessons: {found.practice}", "Knowledge")
    st.header(f"Lessons from twinning {md_escape(found.practice)}", anchor=False)
    st.caption(_origin(found))
    st.page_link(
        "app_pages/radar.py",
        label=f"The practice: **{md_escape(found.practice)}**",
        query_params={"practice": str(found.practice_id)},
    )
    for part, label in LESSONS_PARTS.items():
        st.subheader(label, anchor=False)
        st.markdown(md_escape_paragraphs(found.parts[part]))


def lessons_section() -> None:
    """The published cases, searchable, each linking to its own page."""
    st.caption(_("What adopters and originators learned from twinnings completed on the platform."))
    text = st.text_input(_("Search the lessons"), key="lessons_text").strip()
    found = cached.published_cases(text)
    count = len(found)
    st.caption(ngettext("{count} case", "{count} cases", count).format(count=format_number(count)))
    for item in found:
        with st.container(border=True):
            case_link(item)
            st.caption(_origin(item))
            st.markdown(md_escape(item.parts["outcome"]))


def practice_cases(practice_id: int) -> None:
    """On a practice's page: the lessons from the twinnings that transferred it."""
    found = cached.practice_cases(practice_id)
    if found:
        st.subheader(_("Lessons from twinnings"), anchor=False)
        for item in found:
            case_link(item)
