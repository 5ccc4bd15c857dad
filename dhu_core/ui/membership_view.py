"""Who acts for an organisation, on the pages: invitations, join requests and members."""

import streamlit as st

from dhu_core import db, geo, organisations, tokens
from dhu_core.accounts import PermissionDenied
from dhu_core.i18n import _, format_date
from dhu_core.models import FieldError, StateConflict, User, field_errors
from dhu_core.text import md_escape, upper_first
from dhu_core.ui import addresses, cached, forms

INVITE_FORM = "invite"
JOIN_FORM = "join-request"
LEAVE_FORM = "leave"
REFUSALS = (StateConflict, PermissionDenied, LookupError)


def invitation_link(token: str) -> str:
    """The address a colleague opens to accept an invitation (made on My organisation)."""
    return f"{addresses.app_url('organisation')}/join?invitation={token}"


def invitation_from_url() -> str | None:
    """The invitation token of `?invitation=…` when it is valid (shown with its details)."""
    token = st.query_params.get("invitation")
    if not token:
        return None
    try:
        with db.read_scope() as session:
            view = organisations.invitation(session=session, token=token)
    except tokens.InvalidToken as error:
        st.error(upper_first(str(error)), icon=":material/link_off:")
        return None
    st.info(
        _(
            "**{member}** invites you to join **{organisation}** ({country}). The invitation is "
            "valid until {date}."
        ).format(
            member=md_escape(view.invited_by),
            organisation=md_escape(view.organisation),
            country=geo.country_name(view.country),
            date=format_date(view.expires_at, form="long"),
        ),
        icon=":material/group_add:",
    )
    return token


def accept(user: User, token: str) -> None:
    """The button that accepts an invitation for the signed-in account."""
    if user.organisation_id is not None:
        st.warning(
            _("Your account acts for an organisation already, so it cannot join another one."),
            icon=":material/info:",
        )
        return
    if st.button(_("Join the organisation"), type="primary", icon=":material/group_add:"):
        try:
            with db.session_scope() as session:
                organisations.accept_invitation(session=session, account=user, token=token)
        except (FieldError, tokens.InvalidToken) as error:
            st.error(upper_first(str(error)), icon=":material/error:")
        else:
            st.query_params.clear()
            st.session_state["organisation_message"] = _("Welcome: you are a member now.")
            st.switch_page("app_pages/organisation.py")


def members_panel(user: User) -> None:
    """The organisation's members and open invitations, and the form to invite a colleague."""
    with db.read_scope() as session:
        people = organisations.members(session=session, actor=user)
    st.dataframe(
        {
            _("name"): [m.name or _("(invited)") for m in people],
            _("e-mail"): [m.email for m in people],
            _("status"): [
                _("invited, until {date}").format(date=format_date(m.expires_at))
                if m.status == "invited"
                else _("member")
                for m in people
            ],
            _("since"): [format_date(m.since) for m in people],
        },
        hide_index=True,
    )
    open_invitations = {m.membership_id: m for m in people if m.status == "invited"}
    if open_invitations:
        chosen = st.selectbox(
            _("Open invitation"),
            options=list(open_invitations),
            format_func=lambda i: open_invitations[i].email,
            index=None,
            placeholder=_("Choose an invitation to withdraw…"),
        )
        if chosen is not None and st.button(_("Withdraw the invitation")):
            _decide(
                lambda session: organisations.withdraw_invitation(
                    session=session, actor=user, membership_id=chosen
                ),
                _("Invitation withdrawn."),
            )
    _invite_form(user)
    _leave_form(user, [m for m in people if m.status == "active" and m.account_id != user.id])


def _leave_form(user: User, colleagues: list[organisations.Member]) -> None:
    st.subheader(_("Leave the organisation"))
    if not colleagues:
        st.caption(
            _(
                "You are its only member: invite a colleague first, so that somebody keeps its "
                "practices and needs; you can leave once they have accepted."
            )
        )
        return
    with st.form(LEAVE_FORM):
        successor = st.selectbox(
            _("Hand over to *"),
            options=[m.account_id for m in colleagues],
            format_func={m.account_id: f"{m.name} ({m.email})" for m in colleagues}.get,
            index=None,
            placeholder=_("Choose the member who takes over…"),
            help=_("Practices that name your e-mail address as their contact get theirs."),
        )
        forms.field_error(LEAVE_FORM, "successor")
        left = st.form_submit_button(_("Leave the organisation"), icon=":material/logout:")
        forms.error_summary(LEAVE_FORM, {"successor": _("Hand over to")})
    if left:
        try:
            with db.session_scope() as session:
                organisations.leave(session=session, actor=user, successor_id=successor)
        except FieldError as error:
            forms.show_errors_and_rerun(LEAVE_FORM, field_errors(error))
        except REFUSALS as refusal:
            st.warning(str(refusal), icon=":material/sync_problem:")
            return
        forms.clear_errors(LEAVE_FORM)
        st.session_state["organisation_message"] = _(
            "You have left the organisation. Its practices and needs stay with its members."
        )
        st.rerun()


def _invite_form(user: User) -> None:
    st.subheader(_("Invite a colleague"))
    st.caption(
        _(
            "Your colleague gets the invitation by e-mail. Its link is valid for {days} days "
            "and works once: whoever opens it can join your organisation."
        ).format(days=organisations.INVITATION_DAYS)
    )
    if sent := st.session_state.pop("invitation_sent", None):
        address, link = sent
        st.success(
            _(
                "Invitation e-mailed to {address}. If it does not arrive, pass on this link "
                "yourself (shown only once):"
            ).format(address=md_escape(address))
        )
        st.code(link, language=None, wrap_lines=True)
    with st.form(INVITE_FORM, clear_on_submit=True):
        email = st.text_input(_("Colleague's e-mail *"), key="invite_email")
        forms.field_error(INVITE_FORM, "email")
        sent = st.form_submit_button(_("Create the invitation"), icon=":material/person_add:")
        forms.error_summary(INVITE_FORM, {"email": _("Colleague's e-mail")})
    if sent:
        try:
            with db.session_scope() as session:
                made = organisations.invite(session=session, actor=user, email=email)
        except FieldError as error:
            forms.show_errors_and_rerun(INVITE_FORM, field_errors(error))
        forms.clear_errors(INVITE_FORM)
        st.session_state["invitation_sent"] = (made.membership.email, invitation_link(made.token))
        st.rerun()


def join_requests_panel(user: User) -> None:
    """Requests to join that the user may decide, each with approve and decline."""
    with db.read_scope() as session:
        requests = organisations.join_requests(session=session, actor=user)
    if not requests:
        st.caption(_("No request to join is waiting."))
    for request in requests:
        with st.container(border=True):
            st.markdown(
                _(
                    "**{name}** ({username}, {email}) asks to join **{organisation}** "
                    "({country}) · {date} {time} UTC"
                ).format(
                    name=md_escape(request.display_name),
                    username=md_escape(request.username),
                    email=md_escape(request.email),
                    organisation=md_escape(request.organisation),
                    country=geo.country_name(request.country),
                    date=format_date(request.created_at),
                    time=f"{request.created_at:%H:%M}",
                )
            )
            columns = st.columns(2)
            for column, label, approving in zip(
                columns, (_("Approve"), _("Decline")), (True, False), strict=True
            ):
                if column.button(label, key=f"join-{request.id}-{approving}"):
                    _decide(
                        lambda session, approving=approving, request=request: (
                            organisations.decide_request(
                                session=session,
                                actor=user,
                                membership_id=request.id,
                                approve=approving,
                            )
                        ),
                        (_("Approved: {name}.") if approving else _("Declined: {name}.")).format(
                            name=md_escape(request.display_name)
                        ),
                    )


def ask_to_join(user: User) -> None:
    """For an account without an organisation: its waiting request, or the form to ask."""
    with db.read_scope() as session:
        waiting = organisations.pending_request(session=session, account=user)
    if waiting is not None:
        st.info(
            _(
                "Your request to join **{organisation}** is waiting for one of its members or a "
                "coordinator."
            ).format(organisation=md_escape(waiting.organisation)),
            icon=":material/hourglass_top:",
        )
        return
    st.markdown(
        _(
            "Your account acts for no organisation yet. Ask to join yours, or open the "
            "invitation link a colleague sent you."
        )
    )
    choices = cached.organisation_choices()
    with st.form(JOIN_FORM):
        organisation_id = st.selectbox(
            _("Organisation to join *"),
            options=list(choices),
            format_func=choices.get,
            index=None,
            placeholder=_("Type to find your organisation…"),
        )
        forms.field_error(JOIN_FORM, "organisation_id")
        asked = st.form_submit_button(_("Ask to join"), type="primary")
        forms.error_summary(JOIN_FORM, {"organisation_id": _("Organisation to join")})
    if asked:
        try:
            with db.session_scope() as session:
                organisations.request_to_join(
                    session=session, account=user, organisation_id=organisation_id or 0
                )
        except FieldError as error:
            forms.show_errors_and_rerun(JOIN_FORM, field_errors(error))
        forms.clear_errors(JOIN_FORM)
        st.rerun()


def _decide(change, message: str) -> None:
    try:
        with db.session_scope() as session:
            change(session)
    except REFUSALS as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        st.session_state["organisation_message"] = message
        st.rerun()
