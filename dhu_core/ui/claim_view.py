"""Claims on the pages: the claim button of a practice nobody acts for, the role field of a
claim sign-up, and the coordinators' list of open claims. All user text escaped."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import claims, db, geo, i18n
from dhu_core.accounts import PermissionDenied
from dhu_core.i18n import N_, _
from dhu_core.models import ClaimCreate, FieldError, PracticePublic, StateConflict, User
from dhu_core.models import field_errors as errors_of
from dhu_core.text import md_escape
from dhu_core.ui import forms

ROLE_LABEL = N_("Your role in the organisation *")
ROLE_HELP = N_("What you do there, such as 'head of digital services' or 'project lead'.")
REFUSALS = (StateConflict, PermissionDenied, LookupError)


def _why(practice: PracticePublic) -> str:
    return _(
        "Nobody acts for **{organisation}** on the platform yet. If you work there, claim this "
        "practice: a coordinator checks your claim and e-mails you the decision; once approved, "
        "you keep all of the organisation's practices up to date."
    ).format(organisation=md_escape(practice.owner_organisation))


def claim_button(practice: PracticePublic, viewer: User | None) -> None:
    """On a practice's detail view, when its organisation has no member: the claim button
    (for visitors, links to register or sign in first), or the viewer's waiting claim."""
    state = claims.claim_state(practice_id=practice.id, viewer=viewer)
    key = f"claim-{practice.id}"
    if st.session_state.pop(f"{key}-sent", False):
        st.success(
            _("Claim sent. A coordinator checks it and e-mails you the decision."),
            icon=":material/mark_email_read:",
        )
    if not state.claimable:
        return
    if state.own_open_claim:
        st.info(_("Your claim of this practice waits for a coordinator."), icon=":material/badge:")
        return
    if viewer is not None and viewer.organisation_id is not None:
        return  # acts for another organisation: a claim comes from the practice's own people
    with st.popover(_("Claim this practice"), icon=":material/badge:"):
        st.markdown(_why(practice))
        if viewer is None:
            st.page_link(
                "app_pages/sign_up.py",
                label=_("Create an account to claim it"),
                icon=":material/person_add:",
                query_params={"claim": str(practice.id)},
            )
            st.caption(_("Have an account already? Sign in, then open this practice again."))
            return
        _claim_form(practice, viewer, key)


def _claim_form(practice: PracticePublic, viewer: User, key: str) -> None:
    with st.form(key, border=False):
        with forms.field(key, "role"):
            st.text_input(_(ROLE_LABEL), key=f"{key}-role", help=_(ROLE_HELP))
        sent = st.form_submit_button(_("Send the claim"), type="primary")
        forms.error_summary(key, {"role": _(ROLE_LABEL).rstrip(" *")})
    if not sent:
        return
    try:
        data = ClaimCreate(practice_id=practice.id, role=st.session_state[f"{key}-role"])
        with db.session_scope() as session:
            claims.make_claim(session=session, account=viewer, data=data)
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(key, errors_of(error))
    except REFUSALS as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
        return
    forms.clear_errors(key)
    del st.session_state[f"{key}-role"]
    st.session_state[f"{key}-sent"] = True
    st.rerun()


def claim_from_url() -> PracticePublic | None:
    """The practice of `?claim=ID` on the sign-up page, when it can be claimed (said above
    the form); None without one, or with a message when it cannot be claimed."""
    raw = st.query_params.get("claim")
    if not raw:
        return None
    practice = claims.claimable_practice(raw)
    if practice is None:
        st.warning(
            _(
                "This practice cannot be claimed: it is not published, or its organisation has "
                "members by now (ask one of them to invite you)."
            ),
            icon=":material/info:",
        )
        return None
    st.info(
        _(
            "You claim **{practice}** of **{organisation}** ({country}). A coordinator checks "
            "your claim and e-mails you the decision."
        ).format(
            practice=md_escape(practice.title),
            organisation=md_escape(practice.owner_organisation),
            country=geo.country_name(practice.owner_country),
        ),
        icon=":material/badge:",
    )
    return practice


def role_problems(practice: PracticePublic, role: str | None) -> dict[str, str]:
    """The message for the role field of a claim sign-up, if the role is not acceptable."""
    try:
        ClaimCreate(practice_id=practice.id, role=role)
    except ValidationError as error:
        return errors_of(error)
    return {}


def claim_sent(username: str, practice: PracticePublic) -> str:
    """What the sign-up page says after an account was made and its claim sent."""
    return _(
        "Account **{username}** created, and your claim of **{practice}** sent. A coordinator "
        "checks it and e-mails you the decision. You can sign in now."
    ).format(username=md_escape(username), practice=md_escape(practice.title))


def claims_panel(coordinator: User) -> None:
    """An expander with the open claims, those from an address at the organisation's web
    domain first, each with approve and reject (coordinators)."""
    with db.read_scope() as session:
        waiting = claims.open_claims(session=session, actor=coordinator)
    label = _("Claims of practices ({count} waiting)").format(
        count=i18n.format_number(len(waiting))
    )
    with st.expander(label, icon=":material/badge:", expanded=bool(waiting)):
        if not waiting:
            st.caption(_("No claim is waiting."))
        for claim in waiting:
            _claim_card(coordinator, claim)


def _claim_card(coordinator: User, claim: claims.ClaimView) -> None:
    """One open claim: who, which practice, the role, the flag, and the two decisions."""
    with st.container(border=True):
        flag = (
            ":green-badge[:material/verified: "
            + _("address at the organisation's web domain")
            + "]"
            if claim.domain_matches
            else ":gray-badge[" + _("address elsewhere") + "]"
        )
        st.markdown(
            _(
                "**{claimant}** ({username}, {email}) claims **{practice}** of "
                "**{organisation}** ({country})"
            ).format(
                claimant=md_escape(claim.claimant),
                username=md_escape(claim.username),
                email=md_escape(claim.email),
                practice=md_escape(claim.practice),
                organisation=md_escape(claim.organisation),
                country=geo.country_name(claim.country),
            )
            + " "
            + flag
        )
        st.caption(
            _("Role: {role} · website: {website} · {date} {time} UTC").format(
                role=md_escape(claim.role),
                website=md_escape(claim.website or "—"),
                date=i18n.format_date(claim.created_at),
                time=f"{claim.created_at:%H:%M}",
            )
        )
        note = st.text_input(_("Note to the claimant (optional)"), key=f"claim-note-{claim.id}")
        approve, reject = st.columns(2)
        choices = ((approve, _("Approve the claim"), True), (reject, _("Reject the claim"), False))
        for column, label, approving in choices:
            if column.button(label, key=f"claim-{claim.id}-{approving}"):
                _decide(coordinator, claim, approving, note)


def _decide(coordinator: User, claim: claims.ClaimView, approve: bool, note: str) -> None:
    try:
        with db.session_scope() as session:
            claims.decide_claim(
                session=session, actor=coordinator, claim_id=claim.id, approve=approve, note=note
            )
    except (FieldError, *REFUSALS) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
        return
    decided = (
        _("Approved: the claim of {claimant} to {practice}.")
        if approve
        else _("Rejected: the claim of {claimant} to {practice}.")
    )
    st.session_state["review_message"] = decided.format(
        claimant=md_escape(claim.claimant), practice=md_escape(claim.practice)
    )
    st.rerun()
