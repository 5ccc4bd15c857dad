"""Views of twinning calls: the public list, a call's page with its countdown and rules, the
application form of an adopter, the originators' answers and the coordinators' call form."""

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from dhu_core import db, geo, i18n, taxonomy, twinning
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import applications, calls
from dhu_core.calls.eligibility import Ineligible
from dhu_core.i18n import N_, _, ngettext
from dhu_core.models import (
    ApplicationDraft,
    CallCreate,
    CallPublic,
    FieldError,
    StateConflict,
    User,
    field_errors,
    utcnow,
)
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import cached, call_award_view, call_evaluation_view, forms, shell

MESSAGE = "call_message"
CALL_FORM = "call"
APPLICATION_FORM = "call_application"
CALL_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "countries": N_("Countries of the adopters"),
    "practice_types": N_("Types of practice"),
    "min_maturity": N_("Minimum maturity"),
    "places": N_("Places"),
    "grant_per_place": N_("Grant per place (EUR)"),
    "opens_at": N_("Opens"),
    "closes_at": N_("Closes"),
    "criteria": N_("Evaluation criteria"),
}
APPLICATION_LABELS = {
    "organisation": N_("Your organisation"),
    "need_id": N_("Need"),
    "practice_ids": N_("Preferred practices"),
    "motivation": N_("Motivation"),
}
#: An application's state, and an originator's answer for a chosen practice.
APPLICATION_STATES = {"draft": N_("draft"), "submitted": N_("submitted")}
ANSWERS = {
    applications.PENDING: N_("pending"),
    applications.CONFIRMED: N_("confirmed"),
    applications.DECLINED: N_("declined"),
}
#: How many of the platform's suggestions pre-fill a new application's practices.
PREFILLED = 3


def labels(names: dict[str, str]) -> dict[str, str]:
    """A form's field labels in the page's language."""
    return {name: _(label) for name, label in names.items()}


def answer_label(status: str) -> str:
    """An originator's answer for a chosen practice, in words of the page's language."""
    return _(ANSWERS[status]) if status in ANSWERS else status


def state_label(status: str) -> str:
    """An application's state in words of the page's language."""
    return _(APPLICATION_STATES[status]) if status in APPLICATION_STATES else status


def _done(message: str) -> None:
    st.session_state[MESSAGE] = message
    st.rerun()


def link(call_id: int, title: str, *, note: str = "") -> None:
    """A link to a call's page, in the same tab."""
    st.page_link(
        "app_pages/calls.py",
        label=f"**{md_escape(title)}**{note}",
        query_params={"call": str(call_id)},
    )


def when(call: CallPublic, now: datetime | None = None) -> str:
    """The countdown in words with the time in UTC, by the server's clock."""
    moment = now or utcnow()
    phase = calls.phase(call, moment)
    if phase == calls.UPCOMING:
        return _("Opens on {moment} UTC").format(moment=_moment(call.opens_at))
    if phase == calls.OPEN:
        left = calls.time_left(call.closes_at, moment)
        return _("Closes in {left}, on {moment} UTC").format(
            left=left, moment=_moment(call.closes_at)
        )
    return _("Closed on {moment} UTC").format(moment=_moment(call.closes_at))


def _moment(moment: datetime) -> str:
    """A day and time as the page's language writes them (05 March 2026 at 12:00)."""
    return calls.moment_text(moment)


# --- the list ----------------------------------------------------------------------------


def call_list(user: User | None) -> None:
    """Open, upcoming and past calls; drafts too for coordinators."""
    with db.read_scope() as session:
        listing = calls.list_calls(session=session, actor=user)
    sections = [
        (_("Open calls"), listing.open, _("No call is open now.")),
        (_("Upcoming calls"), listing.upcoming, None),
        (_("Past calls"), listing.past, None),
        (_("Drafts (coordinators only)"), listing.drafts, None),
    ]
    for heading, found, empty in sections:
        if not found and empty is None:
            continue
        st.subheader(heading)
        if not found:
            st.info(empty)
        for call in found:
            with st.container(border=True):
                link(call.id, call.title)
                st.caption(f"{when(call)} · {_places(call)}")


def _places(call: CallPublic) -> str:
    return ngettext(
        "{count} place, {grant} {currency} each",
        "{count} places, {grant} {currency} each",
        call.places,
    ).format(
        count=call.places,
        grant=i18n.format_number(call.grant_per_place),
        currency=call.currency,
    )


# --- a call's page -----------------------------------------------------------------------


def call_page(user: User | None, call_id: int) -> None:
    """One call for everyone (a draft for coordinators), with what the viewer can do there."""
    with db.read_scope() as session:
        try:
            call = calls.get_call(session=session, actor=user, call_id=call_id)
        except LookupError:
            st.warning(_("There is no published call at this address."), icon=":material/search:")
            return
        own = requests = received = None
        if user is not None:
            own = applications.own_application(session=session, actor=user, call_id=call_id)
            requests = applications.confirmation_requests(
                session=session, actor=user, call_id=call_id
            )
        if calls.is_coordinator(user):
            received = applications.call_applications(session=session, actor=user, call_id=call_id)
    shell.tab_title(call.title, _("Twinning calls"))
    st.header(md_escape(call.title))
    if call.status == "draft":
        st.caption(
            ":orange-badge[{draft}] {note}".format(
                draft=_("Draft"), note=_("Only coordinators see this call until it is published.")
            )
        )
    st.markdown(f"**{when(call)}** · {_places(call)}")
    st.markdown(md_escape_paragraphs(call.description))
    rules(call)
    is_open = call.status == "published" and calls.phase(call) == calls.OPEN
    if requests:
        confirmations(user, requests, is_open)
    if user is not None and (own is not None or is_open):
        application(user, call, own, is_open)
    if received is not None:
        call_award_view.link(call.id)
        received_applications(received)
        if call.status == "published" and calls.phase(call) == calls.CLOSED:
            call_evaluation_view.coordinator_section(user, call, MESSAGE)
    if call.status == "draft" and calls.is_coordinator(user):
        call_form(user, call)
        if st.button(_("Publish the call"), type="primary", key=f"publish-{call.id}"):
            _change(lambda s: calls.publish_call(session=s, actor=user, call_id=call.id),
                    _("The call is published: everyone sees it now."))  # fmt: skip


def rules(call: CallPublic) -> None:
    """Who may apply, with which practices, and how applications are judged."""
    st.subheader(_("Rules"))
    countries = ", ".join(geo.country_name(c) for c in call.countries) or _("any country")
    kinds = ", ".join(taxonomy.PRACTICE_TYPES.label(t) for t in call.practice_types) or _("any")
    maturity = (
        _("{level} or more").format(level=call.min_maturity) if call.min_maturity else _("any")
    )
    lines = [
        _("Adopters in: {countries}").format(countries=md_escape(countries)),
        _("Types of practice: {kinds}").format(kinds=md_escape(kinds)),
        _("Maturity of the practices: {maturity}").format(maturity=maturity),
        _(
            "Every chosen practice's originator confirms taking part before the application is "
            "submitted."
        ),
    ]
    if call.exclude_same_country:
        lines.append(
            _("Evaluators do not come from the countries of the adopter or the originators.")
        )
    st.markdown("\n".join(f"- {line}" for line in lines))
    st.subheader(_("Evaluation criteria"))
    criterion, weight, guidance = _("Criterion"), _("Weight"), _("Scoring guidance")
    st.dataframe(
        pd.DataFrame(
            [{criterion: c.name, weight: c.weight, guidance: c.guidance} for c in call.criteria],
            columns=[criterion, weight, guidance],
        ),
        hide_index=True,
        width="stretch",
    )


def _change(action, message: str) -> None:
    """Run one service call in a write transaction; a refusal is shown, success reruns."""
    try:
        with db.session_scope() as session:
            action(session)
    except (StateConflict, PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        _done(message)


def confirmations(user: User, requests: list, is_open: bool) -> None:
    """The applications that chose practices of the viewer's organisation: confirm or decline."""
    st.subheader(_("Applications that chose your practices"))
    for request in requests:
        with st.container(border=True):
            st.markdown(
                _("**{adopter}** ({country}) chose **{practice}** · answer: {answer}").format(
                    adopter=md_escape(request.adopter),
                    country=geo.country_name(request.adopter_country),
                    practice=md_escape(request.practice),
                    answer=answer_label(request.status),
                )
            )
            if request.motivation:
                st.markdown(md_escape_paragraphs(request.motivation))
            if not is_open:
                continue
            key = f"{request.application_id}-{request.practice_id}"
            left, right = st.columns(2)
            choices = ((left, True, _("Confirm")), (right, False, _("Decline")))
            for column, confirm, label in choices:
                if column.button(label, key=f"answer-{confirm}-{key}"):
                    _answer(user, request, confirm)


def _answer(user: User, request: applications.ConfirmationRequest, confirm: bool) -> None:
    _change(
        lambda session: applications.answer(
            session=session,
            actor=user,
            application_id=request.application_id,
            practice_id=request.practice_id,
            confirm=confirm,
        ),  # fmt: skip
        _("Your answer is saved: confirmed.") if confirm else _("Your answer is saved: declined."),
    )


def waiting_answers(user: User) -> None:
    """In the inbox: applications to open calls waiting for the organisation's answer."""
    with db.read_scope() as session:
        waiting = applications.waiting_answers(session=session, actor=user)
    if not waiting:
        return
    st.subheader(_("Twinning calls waiting for your answer"))
    for request in waiting:
        with st.container(border=True):
            link(request.call_id, request.call_title)
            st.caption(
                _("{adopter} chose {practice}: confirm or decline on the call's page.").format(
                    adopter=md_escape(request.adopter), practice=md_escape(request.practice)
                )
            )


def received_applications(received: list[applications.ApplicationView]) -> None:
    """The applications to the call, for coordinators."""
    submitted = sum(a.status == "submitted" for a in received)
    st.subheader(_("Applications"))
    st.caption(
        ngettext(
            "{count} application · {submitted} submitted",
            "{count} applications · {submitted} submitted",
            len(received),
        ).format(count=len(received), submitted=submitted)
    )
    for found in received:
        chosen = "; ".join(f"{p.title} ({answer_label(p.status)})" for p in found.practices)
        st.markdown(
            "- "
            + _("**{organisation}** · {state} · practices: {practices}").format(
                organisation=md_escape(found.organisation),
                state=state_label(found.status),
                practices=md_escape(chosen) or _("none yet"),
            )
        )


# --- applying ----------------------------------------------------------------------------


def application(
    user: User, call: CallPublic, own: applications.ApplicationView | None, is_open: bool
) -> None:
    """The application of the viewer's organisation: its state, and the form while open."""
    st.subheader(_("Your organisation's application"))
    if own is not None:
        st.markdown(
            _("Your application is **submitted**.")
            if own.status == "submitted"
            else _("Your application is **a draft**.")
        )
        call_award_view.own_decision(user, call.id)
        for practice in own.practices:
            st.markdown(
                f"- {md_escape(practice.title)} ({md_escape(practice.originator)}): "
                f"{answer_label(practice.status)}"
            )
    if not is_open:
        return
    with db.read_scope() as session:
        needs = twinning.own_needs(session=session, actor=user)
    if not needs:
        st.info(_("Your organisation has no open need yet: state one on the Twinning page first."))
        st.page_link("app_pages/twinning.py", label=_("Twinning"), icon=":material/handshake:")
        return
    _application_form(user, call, own, {n.id: n for n in needs if n.status == "open"})


def _application_form(user, call, own, needs) -> None:
    prefix = f"call-{call.id}"
    state = st.session_state
    if own is not None and f"{prefix}-need" not in state and own.need_id in needs:
        state[f"{prefix}-need"] = own.need_id
        state[f"{prefix}-motivation"] = own.motivation
    forms.field_error(APPLICATION_FORM, "organisation")
    with forms.field(APPLICATION_FORM, "need_id"):
        need_id = st.selectbox(
            _("Need *"), options=list(needs), key=f"{prefix}-need",
            format_func=lambda i: needs[i].problem_statement[:120],
        )  # fmt: skip
    with db.read_scope() as session:
        suggestions = twinning.suggest_practices(
            session=session, actor=user, need_id=need_id, index=cached.matching_index()
        )
    titles = {s.practice.id: f"{s.practice.title} ({s.practice.organisation})" for s in suggestions}
    chosen = [p.practice_id for p in own.practices] if own and own.need_id == need_id else []
    for practice in own.practices if own else []:
        # The same label as a suggestion's: Streamlit keeps a multiselect's choice by label.
        titles.setdefault(practice.practice_id, f"{practice.title} ({practice.originator})")
    key = f"{prefix}-practices-{need_id}"
    if key not in state:
        # The platform's suggestions pre-fill a new choice; a saved one is kept as it was.
        state[key] = chosen or list(titles)[:PREFILLED]
    with forms.field(APPLICATION_FORM, "practice_ids"):
        practice_ids = st.multiselect(
            _("Preferred practices *"), options=list(titles), format_func=titles.get, key=key,
            help=_("The platform's best suggestions for this need, best first."),
        )  # fmt: skip
    with forms.field(APPLICATION_FORM, "motivation"):
        motivation = st.text_area(_("Motivation"), key=f"{prefix}-motivation")
    left, right = st.columns(2)
    save = left.button(_("Save the draft"), key=f"{prefix}-save")
    submit = right.button(_("Submit the application"), type="primary", key=f"{prefix}-submit")
    forms.error_summary(APPLICATION_FORM, labels(APPLICATION_LABELS))
    if save or submit:
        values = {"need_id": need_id, "practice_ids": practice_ids, "motivation": motivation}
        _save_and_submit(user, call.id, values, submit=submit)


def _save_and_submit(user: User, call_id: int, values: dict, *, submit: bool) -> None:
    """Save the draft (kept whatever happens next), then submit it when asked."""
    try:
        draft = ApplicationDraft(**values)
        with db.session_scope() as session:
            saved = applications.save_application(
                session=session, actor=user, call_id=call_id, data=draft
            )
        if submit:
            with db.session_scope() as session:
                applications.submit_application(
                    session=session, actor=user, application_id=saved.id
                )
    except (Ineligible, ValidationError, FieldError) as error:
        # The messages name the chosen practices: their titles are user text.
        found = error.errors if isinstance(error, Ineligible) else field_errors(error)
        forms.show_errors_and_rerun(APPLICATION_FORM, {k: md_escape(v) for k, v in found.items()})
    except (StateConflict, PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        forms.clear_errors(APPLICATION_FORM)
        _done(_("Your application is submitted.") if submit else _("Your draft is saved."))


# --- the coordinators' call form ----------------------------------------------------------


def call_form(user: User, call: CallPublic | None) -> None:
    """Draft a new call, or edit a draft (`call`); times are in UTC."""
    prefix = f"callform-{call.id if call else 'new'}"
    start = call.opens_at if call else datetime.combine(utcnow().date(), time(9), tzinfo=UTC)
    end = call.closes_at if call else start + timedelta(days=42)
    if call is None:
        # A new call starts from the last one's criteria: a coordinator edits rather than
        # retypes them.
        with db.read_scope() as session:
            starting = calls.latest_criteria(session)
    criteria = [c.model_dump() for c in (call.criteria if call else starting)]
    with st.form(prefix):
        st.subheader(_("Edit the draft") if call else _("Draft a new call"))
        with forms.field(CALL_FORM, "title"):
            title = st.text_input(_("Title *"), value=call.title if call else "")
        with forms.field(CALL_FORM, "description"):
            description = st.text_area(_("Description *"), value=call.description if call else "")
        left, right = st.columns(2)
        with left, forms.field(CALL_FORM, "countries"):
            countries = st.multiselect(
                _("Countries of the adopters (none: any)"), options=list(geo.countries()),
                format_func=geo.country_name, default=call.countries if call else [],
            )  # fmt: skip
        with right, forms.field(CALL_FORM, "practice_types"):
            kinds = st.multiselect(
                _("Types of practice (none: any)"), options=list(taxonomy.PRACTICE_TYPES),
                format_func=taxonomy.PRACTICE_TYPES.label,
                default=call.practice_types if call else [],
            )  # fmt: skip
        left, middle, right = st.columns(3)
        maturity = left.selectbox(
            _("Minimum maturity"), options=[None, 1, 2, 3, 4, 5],
            index=call.min_maturity or 0 if call else 0,
            format_func=lambda m: _("any") if m is None else str(m),
        )  # fmt: skip
        places = middle.number_input(_("Places *"), 1, 500, call.places if call else 5)
        grant = right.number_input(
            _("Grant per place (EUR) *"), 0, 10_000_000, call.grant_per_place if call else 10_000
        )
        left, right = st.columns(2)
        opens = (
            left.date_input(_("Opens on (UTC) *"), start.date()),
            left.time_input(_("at (UTC)"), start.time(), key=f"{prefix}-opens"),
        )
        closes = (right.date_input(_("Closes on (UTC) *"), end.date()),
                  right.time_input(_("at (UTC)") + " ", end.time(),
                                   key=f"{prefix}-closes"))  # fmt: skip
        with forms.field(CALL_FORM, "closes_at"):
            st.caption(_("The call takes applications from its opening to its closing time."))
        exclude = st.checkbox(
            _("Evaluators may not come from the applicant's countries"),
            value=call.exclude_same_country if call else False,
            help=_(
                "Nobody evaluates an application from the country of its adopter or of an "
                "originator of a chosen practice."
            ),
        )
        with forms.field(CALL_FORM, "criteria"):
            table = st.data_editor(
                pd.DataFrame(criteria, columns=["name", "weight", "guidance"]),
                num_rows="dynamic", hide_index=True, key=f"{prefix}-criteria",
                column_config={
                    "name": st.column_config.TextColumn(_("Criterion")),
                    "weight": st.column_config.NumberColumn(_("Weight"), min_value=0.1),
                    "guidance": st.column_config.TextColumn(_("Scoring guidance")),
                },
            )  # fmt: skip
        saved = st.form_submit_button(_("Save the draft"))
        forms.error_summary(CALL_FORM, labels(CALL_LABELS))
    if saved:
        values = {
            "title": title, "description": description, "countries": countries,
            "practice_types": kinds, "min_maturity": maturity, "places": places,
            "grant_per_place": grant, "exclude_same_country": exclude,
            "opens_at": datetime.combine(*opens, tzinfo=UTC),
            "closes_at": datetime.combine(*closes, tzinfo=UTC),
            "criteria": [
                {k: ("" if pd.isna(v) else v) for k, v in row.items()}
                for row in table.to_dict("records") if str(row.get("name") or "").strip()
            ],
        }  # fmt: skip
        _save_call(user, call, values)


def _save_call(user: User, call: CallPublic | None, values: dict) -> None:
    try:
        data = CallCreate(**values)
        with db.session_scope() as session:
            if call is None:
                saved = calls.create_call(session=session, actor=user, data=data)
            else:
                saved = calls.update_call(session=session, actor=user, call_id=call.id, data=data)
            saved_id = saved.id
    except ValidationError as error:
        forms.show_errors_and_rerun(CALL_FORM, field_errors(error))
    except (StateConflict, PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        forms.clear_errors(CALL_FORM)
        st.query_params.from_dict({"call": str(saved_id)})
        _done(_("The draft is saved: publish it when it is ready."))
