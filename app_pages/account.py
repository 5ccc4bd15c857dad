"""My account: who I am, changing my password, and which e-mails I get."""

import streamlit as st

from dhu_core import accounts, db, taxonomy
from dhu_core.i18n import _
from dhu_core.models import FieldError, field_errors
from dhu_core.text import md_escape
from dhu_core.ui import auth, forms, notification_view, shell

FORM = "change-password"
user = shell.page_for_role("owner", "evaluator", "coordinator", "admin")

st.title(_("My account"))
st.markdown(
    f"**{md_escape(user.display_name)}** · {md_escape(user.username)} · "
    f"{md_escape(user.email)} · {taxonomy.ROLES.label(user.role)}"
)

st.subheader(_("Change password"))
if st.session_state.pop("password_changed", False):
    st.success(_("Password changed. Your other sessions have ended."))
with st.form(FORM, clear_on_submit=False):
    current = st.text_input(_("Current password"), type="password")
    forms.field_error(FORM, "current")
    new = st.text_input(_("New password"), type="password", help=accounts.password_rules())
    forms.field_error(FORM, "new")
    submitted = st.form_submit_button(_("Change password"))

if submitted:
    try:
        with db.session_scope() as session:
            accounts.change_password(session=session, actor=user, current=current, new=new)
    except FieldError as error:
        forms.show_errors_and_rerun(FORM, field_errors(error))
    forms.clear_errors(FORM)
    auth.renew_session()
    st.session_state["password_changed"] = True
    st.rerun()

notification_view.preferences_form(user)
