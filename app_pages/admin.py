"""Administration: accounts, roles, imports, the e-mail outbox and the audit log (admins only)."""

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from dhu_core import accounts, db, i18n, live, taxonomy
from dhu_core.demo import DemoError
from dhu_core.i18n import _
from dhu_core.models import FieldError, StateConflict, field_errors
from dhu_core.ui import cached, forms, import_view, notification_view, shell

FORM = "create-account"
admin = shell.page_for_role("admin")

st.title(_("Administration"))
if message := st.session_state.pop("admin_message", None):
    st.success(message)

with db.read_scope() as session:
    users = accounts.list_users(session=session, actor=admin)
    events = accounts.audit_log(session=session, actor=admin, limit=200)
organisations = cached.organisation_choices()

st.subheader(_("Accounts"))
st.dataframe(
    pd.DataFrame(
        {
            _("username"): [u.username for u in users],
            _("name"): [u.display_name for u in users],
            _("e-mail"): [u.email for u in users],
            _("role"): [taxonomy.ROLES.label(u.role) for u in users],
            _("organisation"): [organisations.get(u.organisation_id, "") for u in users],
            _("disabled"): [u.disabled for u in users],
        }
    ),
    hide_index=True,
)

by_id = {u.id: u for u in users}
chosen = st.selectbox(
    _("Account to change"),
    options=[u.id for u in users if u.id != admin.id],
    format_func=lambda i: f"{by_id[i].username} ({taxonomy.ROLES.label(by_id[i].role)})",
    index=None,
    placeholder=_("Choose an account…"),
)
if chosen is not None:
    target = by_id[chosen]
    role_col, disable_col = st.columns(2)
    new_role = role_col.selectbox(
        _("Role"),
        options=list(taxonomy.ROLES),
        index=list(taxonomy.ROLES).index(target.role),
        format_func=taxonomy.ROLES.label,
    )
    if role_col.button(_("Change role"), disabled=new_role == target.role):
        try:
            with db.session_scope() as session:
                accounts.set_role(
                    session=session,
                    actor=admin,
                    user_id=target.id,
                    role=new_role,
                    expected=target.role,
                )
        except (StateConflict, accounts.PermissionDenied) as refusal:
            role_col.warning(str(refusal), icon=":material/sync_problem:")
        else:
            st.session_state["admin_message"] = _("{username} is now {role}.").format(
                username=target.username, role=taxonomy.ROLES.label(new_role)
            )
            st.rerun()
    toggle = _("Enable account") if target.disabled else _("Disable account")
    if disable_col.button(toggle, type="secondary"):
        try:
            with db.session_scope() as session:
                accounts.set_disabled(
                    session=session, actor=admin, user_id=target.id, disabled=not target.disabled
                )
        except (StateConflict, accounts.PermissionDenied) as refusal:
            disable_col.warning(str(refusal), icon=":material/sync_problem:")
        else:
            done = _("Enabled {username}.") if target.disabled else _("Disabled {username}.")
            st.session_state["admin_message"] = done.format(username=target.username)
            st.rerun()

st.subheader(_("Create an account"))
with st.form(FORM):
    left, right = st.columns(2)
    left.text_input(_("Username *"), key="ca_username")
    with left:
        forms.field_error(FORM, "username")
    right.text_input(_("Name *"), key="ca_display_name")
    with right:
        forms.field_error(FORM, "display_name")
    left.text_input(_("E-mail *"), key="ca_email")
    with left:
        forms.field_error(FORM, "email")
    right.text_input(
        _("Password *"), type="password", key="ca_password", help=accounts.password_rules()
    )
    with right:
        forms.field_error(FORM, "password")
    left.selectbox(
        _("Role *"), options=list(taxonomy.ROLES), format_func=taxonomy.ROLES.label, key="ca_role"
    )
    right.selectbox(
        _("Organisation"),
        options=list(organisations),
        format_func=organisations.get,
        index=None,
        key="ca_organisation_id",
    )
    created = st.form_submit_button(_("Create account"), type="primary")

if created:
    state = st.session_state
    try:
        data = accounts.AccountInput(
            username=state.ca_username,
            display_name=state.ca_display_name,
            email=state.ca_email,
            password=state.ca_password,
        )
        with db.session_scope() as session:
            accounts.admin_create_user(
                session=session,
                actor=admin,
                data=data,
                role=state.ca_role,
                organisation_id=state.ca_organisation_id,
            )
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(FORM, field_errors(error))
    forms.clear_errors(FORM)
    state["admin_message"] = _("Account {username} created.").format(username=data.username)
    st.rerun()

import_view.import_section(admin)
notification_view.outbox_section(admin)

st.subheader(_("Audit log"))
st.dataframe(
    pd.DataFrame(
        {
            _("when (UTC)"): [e.at.strftime("%Y-%m-%d %H:%M:%S") for e in events],
            _("who"): [e.actor_name or "" for e in events],
            _("what"): [e.action for e in events],
            _("record"): [f"{e.entity} {e.entity_id}" if e.entity else "" for e in events],
            _("detail"): [", ".join(f"{k}: {v}" for k, v in e.detail.items()) for e in events],
        }
    ),
    hide_index=True,
)

st.subheader(_("Demo data"))
if not cached.is_demo():
    st.caption(_("This database holds real data; only a demo database can be reset."))
else:
    st.caption(
        _(
            "Replace every record (organisations, accounts, practices, twinnings, digests, "
            "quick captures and the audit log) with a fresh demo data set of the same size, for "
            "example between two workshops."
        )
    )
    confirmed = st.checkbox(
        _("I understand that all data of this demo database are replaced"),
        key="demo_reset_confirmed",
    )
    if st.button(_("Reset the demo data"), disabled=not confirmed, icon=":material/restart_alt:"):
        try:
            summary = live.reset_demo_data(actor=admin)
        except DemoError as error:
            st.error(str(error))
        else:
            passwords = ", ".join(f"{x.username} `{x.password}`" for x in summary.logins)
            st.session_state["admin_message"] = _(
                "Demo data reset: {practices} practices of {organisations} organisations. The "
                "demo accounts have new passwords (also printed on the server's console): "
                "{passwords}."
            ).format(
                practices=i18n.format_number(summary.practices),
                organisations=i18n.format_number(summary.organisations),
                passwords=passwords,
            )
            del st.session_state["demo_reset_confirmed"]
            st.rerun()
