"""Claims on the pages: the claim button of a practice nobody acts for, the role field of a
claim sign-up, and the coordinators' list of open claims. All user text escaped."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import claims, db, geo
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
    return (
        f"Nobody acts for **{md_escape(practice.owner_organisation)}** on the platform yet. If "
        "you work there, claim this practice: a coordinator checks your claim and e-mails you "
        "the decision; once approved, you keep all of the organisation's practices up to date."
    )


def claim_button(practice: PracticePublic, viewer: User | None) -> None:
    """On a practice's detail view, when its organisation has no member: the claim button
    (for visitors, links to register or sign in first), or the viewer's waiting claim."""
    state = claims.claim_state(practice_id=practice.id, viewer=viewer)
    key = f"claim-{practice.id}"
    if st.session_state.pop(f"{key}-sent", False):
        st.success(
            "Claim sent. A coordinator checks it and e-mails you the decision.",
            icon=":material/mark_email_read:",
        )
    if not state.claimable:
        return
    if state.own_open_claim:
        st.info("Your claim of this practice waits for a coordinator.", icon=":material/badge:")
        return
    if viewer is not None and viewer.organisation_id is not None:
        return  # acts for another organisation: a claim comes from the practice's own people
    with st.popover("Claim this practice", icon=":material/badge:"):
        st.markdown(_why(practice))
        if viewer is None:
            st.page_link(
                "app_pages/sign_up.py",
                label="Create an account to claim it",
                icon=":material/person_add:",
                query_params={"claim": str(practice.id)},
            )
            st.caption("Have an account already? Sign in, then open this practice again.")
            return
        _claim_form(practice, viewer, key)


def _claim_form(practice: PracticePublic, viewer: User, key: str) -> None:
    with st.form(key, border=False):
        with forms.field(key, "role"):
            st.text_input(_(ROLE_LABEL), key=f"{key}-role", help=_(ROLE_HELP))
        sent = st.form_submit_button("Send the claim", type="primary")
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
    return (
        f"Account **{md_escape(username)}** created, and your claim of "
        f"**{md_escape(practice.title)}** sent. A coordinator checks it and e-mails you the "
        "decision. You can sign in now."
    )


def claims_panel(coordinator: User) -> None:
    """An expander with the open claims, those from an address at the organisation's web
    domain first, each with approve and reject (coordinators)."""
    with db.read_scope() as session:
        waiting = claims.open_claims(session=session, actor=coordinator)
    label = f"Claims of practices ({len(waiting)} waiting)"
    with st.expander(label, icon=":material/badge:", expanded=bool(waiting)):
        if not waiting:
            st.caption("No claim is waiting.")
        for claim in waiting:
            _claim_card(coordinator, claim)


def _claim_card(coordinator: User, claim: claims.ClaimView) -> None:
    """One open claim: who, which practice, the role, the flag, and the two decisions."""
    with st.container(border=True):
        flag = (
            ":green-badge[:material/verified: address at the organisation's web domain]"
            if claim.domain_matches
            else ":gray-badge[address elsewhere]"
        )
        st.markdown(
            f"**{md_escape(claim.claimant)}** ({md_escape(claim.username)}, "
            f"{md_escape(claim.email)}) claims **{md_escape(claim.practice)}** of "
            f"**{md_escape(claim.organisation)}** ({claim.country}) {flag}"
        )
        st.caption(
            f"Role: {md_escape(claim.role)} · website: {md_escape(claim.website or '—')} · "
            f"{claim.created_at:%d %b %Y %H:%M} UTC"
        )
        note = st.text_input("Note to the claimant (optional)", key=f"claim-note-{claim.id}")
        approve, reject = st.columns(2)
        for column, label, approving in ((approve, "Approve", True), (reject, "Reject", False)):
            if column.button(f"{label} the claim", key=f"claim-{claim.id}-{approving}"):
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
    decided = "Approved" if approve else "Rejected"
    st.session_state["review_message"] = (
        f"{decided}: the claim of {md_escape(claim.claimant)} to {md_escape(claim.practice)}."
    )
    st.rerun()
