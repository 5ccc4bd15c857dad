"""E-mail on the pages: preferences, the unsubscribe and password-reset links, the outbox."""

import pandas as pd
import streamlit as st

from dhu_core import db, i18n, notifications, password_reset, ratelimits, tokens
from dhu_core.accounts import password_rules
from dhu_core.config import LOCAL_URL, get_settings
from dhu_core.i18n import N_, _, format_number
from dhu_core.models import EMAIL_RE, FieldError, StateConflict, User, field_errors
from dhu_core.notifications import delivery, kinds
from dhu_core.text import md_escape, upper_first
from dhu_core.ui import auth, forms

PREFERENCES_FORM = "email-preferences"
FORGOT_FORM = "forgot-password"
RESET_FORM = "reset-password"


def preferences_form(user: User) -> None:
    """Per kind of message: immediately, in a weekly digest, or never."""
    st.subheader(_("E-mail notifications"))
    st.caption(
        _(
            "Sent to {address}. Weekly digests go out on Monday mornings. Password-reset links "
            "always come at once, since you ask for them."
        ).format(address=md_escape(user.email))
    )
    st.caption(
        _(
            "E-mails to you are written in {language}, the language you chose last in the "
            "menu at the top of the sidebar; choose another one there to change it."
        ).format(language=i18n.LANGUAGES.get(user.language, i18n.LANGUAGES[i18n.DEFAULT]))
    )
    if st.session_state.pop("preferences_saved", False):
        st.success(_("Your choices are saved."), icon=":material/check:")
    with db.read_scope() as session:
        chosen = notifications.preferences(session, actor=user)
    with st.form(PREFERENCES_FORM):
        choices = {
            kind.name: st.selectbox(
                _(kind.label),
                options=list(notifications.CHOICES),
                index=list(notifications.CHOICES).index(chosen[kind.name]),
                format_func=lambda choice: _(notifications.CHOICES[choice]),
                key=f"pref_{kind.name}",
            )
            for kind in kinds.choosable(user.role)
        }
        saved = st.form_submit_button(_("Save my choices"))
    if saved:
        with db.session_scope() as session:
            notifications.set_preferences(session, actor=user, choices=choices)
        st.session_state["preferences_saved"] = True
        st.rerun()


def _token() -> str | None:
    token = st.query_params.get("token")
    if not token:
        st.info(_("Open the whole link from the e-mail."), icon=":material/link:")
    return token or None


def unsubscribe_page() -> None:
    """Turn a kind of e-mail off from the link in one, without signing in (asks first)."""
    token = _token()
    if token is None:
        return
    if done := st.session_state.get(f"unsubscribed_{token}"):
        st.success(done, icon=":material/unsubscribe:")
        return
    try:
        with db.read_scope() as session:
            what = notifications.describe(session, token=token)
    except tokens.InvalidToken as error:
        st.error(upper_first(str(error)), icon=":material/link_off:")
        return
    if not what.kinds:
        st.info(_("Nothing is sent to this address weekly any more."), icon=":material/info:")
        return
    st.markdown(
        _("Stop these e-mails to **{address}**:").format(address=md_escape(what.address))
        + "\n"
        + "\n".join(f"- {md_escape(_(label))}" for label in what.kinds)
    )
    if st.button(_("Unsubscribe"), type="primary", icon=":material/unsubscribe:"):
        try:
            with db.session_scope() as session:
                notifications.unsubscribe(session, token=token)
        except tokens.InvalidToken as error:
            st.error(upper_first(str(error)), icon=":material/link_off:")
            return
        st.session_state[f"unsubscribed_{token}"] = _(
            "Done: you will not get these e-mails any more. Signed in, you can choose again "
            "under My account."
        )
        st.rerun()


def forgot_password_page() -> None:
    """Ask for a reset link by e-mail address; the answer never tells if an account has it."""
    if sent := st.session_state.get("reset_link_sent"):
        st.success(_(sent), icon=":material/mail:")
        return
    with st.form(FORGOT_FORM):
        st.text_input(_("E-mail address of your account"), key="fp_email")
        forms.field_error(FORGOT_FORM, "email")
        asked = st.form_submit_button(_("Send me a link"), type="primary")
    if asked:
        email = " ".join(st.session_state.fp_email.split())
        if not EMAIL_RE.match(email):
            forms.show_errors_and_rerun(
                FORGOT_FORM, {"email": _("enter an e-mail address such as name@example.org")}
            )
        try:
            answer = password_reset.request_link(email=email, client=auth.client_address())
        except ratelimits.RateLimited as error:
            forms.show_errors_and_rerun(FORGOT_FORM, {"email": str(error)})
        forms.clear_errors(FORGOT_FORM)
        st.session_state["reset_link_sent"] = answer
        st.rerun()


def reset_password_page() -> None:
    """Set a new password from the link of a reset e-mail."""
    token = _token()
    if token is None:
        return
    if st.session_state.get(f"password_reset_{token}"):
        st.success(_("Your new password is set. Sign in with it."), icon=":material/check:")
        st.page_link("app_pages/sign_in.py", label=_("Sign in"), icon=":material/login:")
        return
    try:
        with db.read_scope() as session:
            user = password_reset.account_for(session, token=token, lock=False)
    except tokens.InvalidToken as error:
        st.error(upper_first(str(error)), icon=":material/link_off:")
        st.page_link("app_pages/forgot_password.py", label=_("Ask for a new link"))
        return
    st.markdown(_("New password for **{username}**.").format(username=md_escape(user.username)))
    with st.form(RESET_FORM):
        st.text_input(_("New password"), type="password", help=password_rules(), key="rp_new")
        forms.field_error(RESET_FORM, "new")
        st.text_input(_("New password again"), type="password", key="rp_again")
        forms.field_error(RESET_FORM, "again")
        chosen = st.form_submit_button(_("Set the new password"), type="primary")
    if chosen:
        new, again = st.session_state.rp_new, st.session_state.rp_again
        if new != again:
            forms.show_errors_and_rerun(RESET_FORM, {"again": _("the two passwords differ")})
        try:
            with db.session_scope() as session:
                password_reset.set_password(session=session, token=token, new=new)
        except FieldError as error:
            forms.show_errors_and_rerun(RESET_FORM, field_errors(error))
        except tokens.InvalidToken as error:
            st.error(upper_first(str(error)), icon=":material/link_off:")
            return
        forms.clear_errors(RESET_FORM)
        st.session_state[f"password_reset_{token}"] = True
        st.rerun()


STATUS_LABELS = {
    "pending": N_("waiting to be sent"),
    "weekly": N_("held for a weekly digest"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "digested": N_("sent in a digest"),
    "failed": N_("failed (given up)"),
    "unknown": N_("unknown (the sender stopped)"),
}


def _status(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def outbox_section(admin: User) -> None:
    """The outbox for administrators: what waits, what failed, and sending it again."""
    st.subheader(_("E-mail outbox"))
    with db.read_scope() as session:
        view = delivery.outbox(session, actor=admin)
    if not get_settings().dhu_smtp_url:
        st.info(
            _(
                "No mail server is set (DHU_SMTP_URL), so no e-mail goes out: the messages wait "
                "here until one is set. See the README, Configuration."
            ),
            icon=":material/mail_lock:",
        )
    if not get_settings().dhu_public_url:
        st.info(
            _(
                "DHU_PUBLIC_URL is not set, so links in e-mails point at {address}; set it to "
                "the address people reach the platform at."
            ).format(address=LOCAL_URL),
            icon=":material/link:",
        )
    st.caption(
        " · ".join(f"{_status(s)}: {format_number(n)}" for s, n in sorted(view.counts.items()))
        or _("No e-mail yet.")
    )
    for title, rows in (
        (_("**Waiting**"), view.waiting),
        (_("**Failed or unknown**"), view.needs_a_look),
    ):
        if rows:
            st.markdown(title)
            st.dataframe(_table(rows), hide_index=True)
    if view.needs_a_look:
        chosen = st.selectbox(
            _("Message to send again"),
            options=[m.id for m in view.needs_a_look],
            format_func=lambda i: next(
                _("#{id} to {recipient}: {subject}").format(
                    id=m.id, recipient=m.recipient, subject=m.subject
                )
                for m in view.needs_a_look
                if m.id == i
            ),
            index=None,
            placeholder=_("Choose a failed or unknown message…"),
        )
        if chosen is not None and st.button(_("Send it again"), icon=":material/send:"):
            try:
                with db.session_scope() as session:
                    delivery.send_again(session, actor=admin, message_id=chosen)
            except (LookupError, StateConflict) as refusal:
                st.warning(str(refusal), icon=":material/sync_problem:")
            else:
                st.session_state["admin_message"] = _("Message #{id} will be sent again.").format(
                    id=chosen
                )
                st.rerun()


def _table(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [m.id for m in rows],
            _("to"): [m.recipient for m in rows],
            _("subject"): [m.subject for m in rows],
            _("status"): [_status(m.status) for m in rows],
            _("due (UTC)"): [m.due_at.strftime("%Y-%m-%d %H:%M") for m in rows],
            _("attempts"): [m.attempts for m in rows],
            _("last error"): [m.last_error or "" for m in rows],
        }
    )
