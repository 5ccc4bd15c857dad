"""Create an account: self-registration for practice owners."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import accounts, db, geo, taxonomy
from dhu_core.models import FieldError, field_errors
from dhu_core.ui import cached, forms

FORM = "sign-up"

st.title("Create an account")
st.markdown(
    "Register as a **practice owner** to add your organisation's digital health practices to "
    "the RADAR and to state twinning needs. Fields marked * are required."
)

if st.session_state.get("signed_up"):
    st.success(f"Account **{st.session_state['signed_up']}** created. You can sign in now.")
    st.page_link("app_pages/sign_in.py", label="Sign in", icon=":material/login:")
    st.stop()

organisations = cached.organisation_choices()
with st.form(FORM):
    st.text_input("Username *", key="su_username", help="3 to 60 letters, digits, . _ or -")
    forms.field_error(FORM, "username")
    st.text_input("Your name *", key="su_display_name")
    forms.field_error(FORM, "display_name")
    st.text_input("E-mail *", key="su_email")
    forms.field_error(FORM, "email")
    st.text_input(
        "Password *",
        type="password",
        key="su_password",
        help=accounts.PASSWORD_RULES,
    )
    forms.field_error(FORM, "password")
    st.text_input("Password again *", type="password", key="su_password_again")
    forms.field_error(FORM, "password_again")

    st.markdown("**Your organisation *** — choose it from the list, or register a new one.")
    st.selectbox(
        "Organisation",
        options=list(organisations),
        format_func=organisations.get,
        index=None,
        placeholder="Choose your organisation…",
        key="su_organisation_id",
    )
    new_org = st.columns(3)
    new_org[0].text_input("…or a new organisation's name", key="su_organisation_name")
    new_org[1].selectbox(
        "Type",
        options=list(taxonomy.ORGANISATION_TYPES),
        format_func=taxonomy.ORGANISATION_TYPES.label,
        key="su_organisation_type",
    )
    new_org[2].selectbox(
        "Country",
        options=list(geo.countries()),
        format_func=geo.country_name,
        index=None,
        placeholder="Choose…",
        key="su_organisation_country",
    )
    forms.field_error(FORM, "organisation_name")
    forms.field_error(FORM, "organisation_country")
    submitted = st.form_submit_button("Create account", type="primary")

if submitted:
    state = st.session_state
    try:
        data = accounts.OwnerRegistration(
            username=state.su_username,
            display_name=state.su_display_name,
            email=state.su_email,
            password=state.su_password,
            organisation_id=state.su_organisation_id,
            organisation_name=state.su_organisation_name,
            organisation_type=state.su_organisation_type,
            organisation_country=state.su_organisation_country,
        )
        if state.su_password != state.su_password_again:
            forms.show_errors_and_rerun(FORM, {"password_again": "the passwords differ"})
        with db.session_scope() as session:
            user = accounts.register_owner(session=session, data=data)
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(FORM, field_errors(error))
    forms.clear_errors(FORM)
    state.signed_up = user.username
    st.rerun()
