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

from dhu_core import db, geo, i18n, taxonomy
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import follow_up, lessons
from dhu_core.config import get_settings
from dhu_core.i18n import N_, _, format_date, format_number, ngettext
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
from dhu_core.ui import cached, forms, paging, shell

PAGE = "app_pages/follow_up.py"
KNOWLEDGE = "app_pages/knowledge.py"
MESSAGE = "follow_up_message"
ASSISTANCE_FORM = "assistance"
REPORT_FORM = "report"
CASE_FORM = "lessons"
ASSISTANCE_LABELS = {
    "held_on": N_("Held on"),
    "topic": N_("Topic"),
    "hours": N_("Hours"),
    "notes": N_("Notes"),
}
REPORT_LABELS = {"kind": N_("Kind of report"), "file": N_("File")}
M = TypeVar("M", bound=BaseModel)
#: Streamlit's upload limits are in megabytes: rounded up, never below the report limit.
MEGABYTE = 1_000_000


#: A twinning's tabs by the name the address gives them (`&tab=reports`, the same in every
#: language), in the order shown.
TABS = {
    "plan": N_("Work plan"),
    "assistance": N_("Technical assistance"),
    "reports": N_("Reports"),
    "lessons": N_("Lessons learned"),
}


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
            message = " ".join(messages.values())
            st.error(message[:1].upper() + message[1:], icon=":material/error:")
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
        return _("{status} · no work plan yet").format(status=status)
    milestone = summary.next_milestone
    if milestone is None:
        return _("{status} · every milestone done").format(status=status)
    next_one = _("next: {milestone} due {date}").format(
        milestone=taxonomy.MILESTONE_KINDS.label(milestone.kind),
        date=format_date(milestone.due_on),
    )
    late = (
        " · :red[**"
        + ngettext("{count} late", "{count} late", summary.late).format(count=summary.late)
        + "**]"
        if summary.late
        else ""
    )
    return f"{status} · {next_one}{late}"


def twinning_list(summaries: list[follow_up.TwinningSummary], empty: str) -> None:
    """Twinnings, each with its link and next step, a page at a time; late ones flagged."""
    if not summaries:
        st.info(empty)
    for summary in paging.shown(summaries):
        with st.container(border=True):
            link(summary)
            st.markdown(
                f"{md_escape(summary.originator)} → {md_escape(summary.adopter)}  \n"
                f"{_next_step(summary)}"
            )
    paging.pager(len(summaries))


def dashboard(user: User) -> None:
    """The coordinators' dashboard: every twinning under way, late ones first."""
    with db.read_scope() as session:
        rows = follow_up.dashboard(session=session, actor=user)
    late = sum(1 for row in rows if row.late)
    under_way = ngettext(
        "{count} twinning under way", "{count} twinnings under way", len(rows)
    ).format(count=format_number(len(rows)))
    with_late = _("{count} with late milestones").format(count=format_number(late))
    st.caption(f"{under_way} · {with_late}")
    twinning_list(rows, _("No twinning is under way."))


def own_twinnings(user: User) -> None:
    """The twinnings of the user's organisation, to follow."""
    with db.read_scope() as session:
        rows = follow_up.own_twinnings(session=session, actor=user)
    twinning_list(rows, _("Your organisation has no agreed twinning yet."))


def twinning_page(user: User, match_id: int) -> None:
    """One twinning's follow-up, for the pair and coordinators."""
    try:
        with db.read_scope() as session:
            seen = follow_up.follow_up(session=session, actor=user, match_id=match_id)
    except (PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/block:")
        return
    summary = seen.twinning
    shell.tab_title(summary.practice, _("Follow-up"))
    st.header(md_escape(summary.practice), anchor=False)
    st.caption(
        f"{md_escape(summary.originator)} → {md_escape(summary.adopter)} · "
        f"{taxonomy.MATCH_STATUSES.label(summary.status)}"
    )
    coordinator = follow_up.is_coordinator(user)
    # The address names the open tab (`&tab=reports`): it stays open when a form reruns the
    # page, and a link opens it, in whatever language the link is opened.
    labels = [_(label) for label in TABS.values()]
    key = f"tab-{seen.twinning.id}"
    if st.session_state.get(key) not in labels:  # first drawn, or drawn in another language
        st.session_state[key] = _(TABS[_tab_asked()])
    plan, assistance, reports, case = st.tabs(
        labels, key=key, on_change=_tab_changed, args=(seen.twinning.id,)
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
        st.info(_("This twinning has no work plan yet."))
        if coordinator and seen.twinning.status in follow_up.UNDER_WAY:
            key = f"plan-{seen.twinning.id}"
            start = st.date_input(_("Start of the work plan"), value=seen.today, key=f"{key}-start")
            if st.button(_("Make the work plan"), type="primary", key=f"{key}-make"):
                _change(
                    lambda s: follow_up.start_work_plan(
                        session=s, actor=user, match_id=seen.twinning.id, start=start
                    ),
                    _("The work plan is made."),
                )
        return
    for milestone in seen.milestones:
        with st.container(border=True):
            _milestone(user, seen, milestone, coordinator)


def _milestone(user: User, seen, milestone: Milestone, coordinator: bool) -> None:
    label = taxonomy.MILESTONE_KINDS.label(milestone.kind)
    if milestone.done_on is not None:
        state = ":green[" + _("done {date}").format(date=format_date(milestone.done_on)) + "]"
    elif seen.late(milestone):
        state = ":red[**" + _("late") + "**]"
    else:
        state = _("to do")
    due = _("due {date}").format(date=format_date(milestone.due_on))
    st.markdown(f"**{label}** · {due} · {state}")
    if milestone.note:
        st.caption(md_escape(milestone.note))
    key = f"milestone-{milestone.id}"
    if seen.twinning.status not in follow_up.UNDER_WAY:
        return
    if milestone.done_on is None:
        with st.expander(_("Mark “{milestone}” done").format(milestone=label)):
            done_on = st.date_input(_("Done on"), value=seen.today, key=f"{key}-done")
            note = st.text_input(_("Note"), key=f"{key}-note", max_chars=follow_up.MAX_NOTE)
            if st.button(_("Mark done"), key=f"{key}-mark"):
                _change(
                    lambda s: follow_up.mark_milestone_done(
                        session=s,
                        actor=user,
                        milestone_id=milestone.id,
                        done_on=done_on,
                        version=milestone.version,
                        note=note,
                    ),  # fmt: skip
                    _("{milestone} is done.").format(milestone=label),
                )
    if coordinator:
        with st.expander(_("Change the due date of “{milestone}”").format(milestone=label)):
            due_on = st.date_input(_("Due on"), value=milestone.due_on, key=f"{key}-due")
            if st.button(_("Change the date"), key=f"{key}-move"):
                _change(
                    lambda s: follow_up.reschedule_milestone(
                        session=s,
                        actor=user,
                        milestone_id=milestone.id,
                        due_on=due_on,
                        version=milestone.version,
                    ),  # fmt: skip
                    _("{milestone} is now due on {date}.").format(
                        milestone=label, date=format_date(due_on, form="long")
                    ),
                )


def _assistance(user: User, seen: follow_up.FollowUp, coordinator: bool) -> None:
    if not seen.sessions:
        st.caption(_("No technical-assistance session yet."))
    for held in seen.sessions:
        with st.container(border=True):
            hours = _("{hours} h").format(hours=format_number(held.hours))
            st.markdown(f"**{md_escape(held.topic)}** · {format_date(held.held_on)} · {hours}")
            if held.notes:
                st.markdown(md_escape_paragraphs(held.notes))
    if not coordinator:
        return
    st.subheader(_("Log a session"), anchor=False)
    form, values = _form(ASSISTANCE_FORM, seen), {}
    with forms.field(form, "held_on"):
        values["held_on"] = st.date_input(_("Held on *"), value=seen.today, key=f"{form}-held")
    with forms.field(form, "topic"):
        values["topic"] = st.text_input(_("Topic *"), key=f"{form}-topic")
    with forms.field(form, "hours"):
        values["hours"] = st.number_input(
            _("Hours *"), min_value=0.0, max_value=100.0, step=0.5, key=f"{form}-hours"
        )
    with forms.field(form, "notes"):
        values["notes"] = st.text_area(_("Notes"), key=f"{form}-notes")
    forms.revalidate(form, values)
    pressed = st.button(_("Log the session"), type="primary", key=f"{form}-log")
    forms.error_summary(form, _labels(ASSISTANCE_LABELS))
    if pressed:
        data = _validated(form, AssistanceInput, values)
        _change(
            lambda s: follow_up.log_assistance(
                session=s, actor=user, match_id=seen.twinning.id, data=data
            ),
            _("The session is logged."),
            form,
        )


def _labels(labels: dict[str, str]) -> dict[str, str]:
    """A form's field labels (marked with `N_`) in the page's language."""
    return {name: _(label) for name, label in labels.items()}


def _download(user: User, report_id: int) -> bytes:
    # Runs when the button is clicked, outside the page's run: it checks and audits the download.
    with db.session_scope() as session:
        return follow_up.download_report(session=session, actor=user, report_id=report_id).content


def _reports(user: User, seen: follow_up.FollowUp) -> None:
    if not seen.reports:
        st.caption(_("No report yet."))
    for report in seen.reports:
        kind = taxonomy.REPORT_KINDS.label(report.kind)
        st.download_button(
            f"{kind}: {md_escape(report.filename)} ({follow_up.file_size(report.size)}, "
            f"{format_date(report.uploaded_at)})",
            data=partial(_download, user, report.id),
            file_name=report.filename,
            mime=report.content_type,
            key=f"report-{report.id}",
            on_click="ignore",
            icon=":material/download:",
        )
    if seen.twinning.status not in follow_up.UNDER_WAY:
        return
    st.subheader(_("Upload a report"), anchor=False)
    limit = get_settings().dhu_report_max_bytes
    st.caption(
        _("A PDF or a plain-text file, at most {size}.").format(size=follow_up.file_size(limit))
    )
    form = _form(REPORT_FORM, seen)
    kind = st.radio(
        _("Kind of report"), options=list(taxonomy.REPORT_KINDS),
        format_func=taxonomy.REPORT_KINDS.label, horizontal=True, key=f"{form}-kind",
    )  # fmt: skip
    with forms.field(form, "file"):
        # The browser refuses a larger file before sending it; the service checks it again.
        upload = st.file_uploader(
            _("File *"), key=f"{form}-file", max_upload_size=math.ceil(limit / MEGABYTE)
        )
    pressed = st.button(_("Upload the report"), type="primary", key=f"{form}-upload")
    forms.error_summary(form, _labels(REPORT_LABELS))
    if pressed:
        if upload is None:
            forms.show_errors_and_rerun(form, {"file": _("choose a file to upload")})
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
            _("The report is uploaded."),
            form,
        )


def _case(user: User, seen: follow_up.FollowUp, coordinator: bool) -> None:
    case = seen.case
    if case is not None and case.status == "published":
        st.success(_("The lessons learned are published in the knowledge community."))
        st.page_link(
            KNOWLEDGE, label=_("Open the published case"), query_params={"case": str(case.id)}
        )
        return
    st.caption(
        _(
            "Turn the final report into a case others can learn from. A coordinator publishes it "
            "to the knowledge community once the final report is uploaded; the twinning is then "
            "completed."
        )
    )
    state, form = st.session_state, _form(CASE_FORM, seen)
    values = {}
    for part, label in LESSONS_PARTS.items():
        key = f"case-{seen.twinning.id}-{part}"
        if key not in state and case is not None:
            state[key] = getattr(case, part)
        with forms.field(form, part):
            values[part] = st.text_area(f"{_(label)} *", key=key, max_chars=5000)
    forms.revalidate(form, values)
    left, right = st.columns(2)
    save = left.button(_("Save the case"), type="primary", key=f"{form}-save")
    publish = (
        coordinator
        and case is not None
        and right.button(_("Publish the case"), key=f"{form}-publish")
    )
    forms.error_summary(form, _labels(LESSONS_PARTS))
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
            _("The case is saved."),
            form,
        )
    if publish:
        _change(
            lambda s: lessons.publish_case(
                session=s, actor=user, match_id=seen.twinning.id, version=case.version
            ),
            _("The case is published and the twinning completed."),
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
        label=_("Lessons from twinning **{practice}** → {adopter}").format(
            practice=md_escape(case.practice), adopter=md_escape(case.adopter)
        ),
        query_params={"case": str(case.id)},
        icon=":material/school:",
    )


def case(found: lessons.CaseView | None) -> None:
    """A published case as a page of its own (`/knowledge?case=ID`)."""
    if found is None:
        st.warning(_("This case does not exist or is not published."))
        return
    shell.tab_title(_("Lessons: {practice}").format(practice=found.practice), _("Knowledge"))
    st.header(
        _("Lessons from twinning {practice}").format(practice=md_escape(found.practice)),
        anchor=False,
    )
    st.caption(_origin(found))
    st.page_link(
        "app_pages/radar.py",
        label=_("The practice: **{practice}**").format(practice=md_escape(found.practice)),
        query_params={"practice": str(found.practice_id)},
    )
    for part, label in LESSONS_PARTS.items():
        st.subheader(_(label), anchor=False)
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


def _tab_asked() -> str:
    """The tab the address names: by its name, or by its label in any language (links made
    before the names); the first one when it names none."""
    asked = st.query_params.get("tab", "")
    return asked if asked in TABS else _tab_named(asked) or next(iter(TABS))


def _tab_named(label: str) -> str | None:
    """The name of the tab of that label in any of the interface's languages (a callback runs
    before the page has chosen its language)."""
    for name, text in TABS.items():
        for code in i18n.LANGUAGES:
            with i18n.language(code):
                if _(text) == label:
                    return name
    return None


def _tab_changed(match_id: int) -> None:
    """Put the tab just opened in the address (the first one is the address without it)."""
    name = _tab_named(st.session_state[f"tab-{match_id}"])
    if name is None or name == next(iter(TABS)):
        st.query_params.pop("tab", None)
    else:
        st.query_params["tab"] = name
