"""Create an account: self-registration for practice owners."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import accounts, claims, geo, organisations, ratelimits, taxonomy
from dhu_core.i18n import _
from dhu_core.models import ClaimCreate, FieldError, StateConflict, field_errors
from dhu_core.text import md_escape
from dhu_core.ui import auth, cached, claim_view, forms, membership_view

FORM = "sign-up"
LABELS = {
    "username": _("Username"),
    "display_name": _("Your name"),
    "email": _("E-mail"),
    "password": _("Password"),
    "password_again": _("Password again"),
    "invitation": _("Invitation"),
    "organisation_id": _("Organisation to join"),
    "organisation_name": _("New organisation's name"),
    "organisation_country": _("Country"),
    "role": _(claim_view.ROLE_LABEL).rstrip(" *"),
}
JOIN, NEW = "join", "new"
state = st.session_state

st.title(_("Create an account"))
st.markdown(
    _(
        "Register as a **practice owner** to add your organisation's digital health practices "
        "to the RADAR and to state twinning needs. Fields marked * are required."
    )
)

if done := state.get("signed_up"):
    st.success(done, icon=":material/check_circle:")
    st.page_link("app_pages/sign_in.py", label=_("Sign in"), icon=":material/login:")
    st.stop()

invitation = membership_view.invitation_from_url()
claim = claim_view.claim_from_url() if invitation is None else None
if invitation is None and claim is None:
    st.radio(
        _("Your organisation *"),
        options=(JOIN, NEW),
        format_func={
            JOIN: _("It is registered here: ask to join it (a member or a coordinator approves)"),
            NEW: _("Register a new organisation"),
        }.get,
        key="su_how",
    )

joining = invitation is None and claim is None and state.su_how == JOIN
creating = invitation is None and claim is None and state.su_how == NEW
with st.form(FORM):
    st.text_input(_("Username *"), key="su_username", help=_("3 to 60 letters, digits, . _ or -"))
    forms.field_error(FORM, "username")
    st.text_input(_("Your name *"), key="su_display_name")
    forms.field_error(FORM, "display_name")
    st.text_input(_("E-mail *"), key="su_email")
    forms.field_error(FORM, "email")
    st.text_input(
        _("Password *"), type="password", key="su_password", help=accounts.password_rules()
    )
    forms.field_error(FORM, "password")
    st.text_input(_("Password again *"), type="password", key="su_password_again")
    forms.field_error(FORM, "password_again")

    forms.field_error(FORM, "invitation")
    if claim is not None:
        st.text_input(_(claim_view.ROLE_LABEL), key="su_role", help=_(claim_view.ROLE_HELP))
        forms.field_error(FORM, "role")
    elif joining:
        choices = cached.organisation_choices()
        st.selectbox(
            _("Organisation to join *"),
            options=list(choices),
            format_func=choices.get,
            index=None,
            placeholder=_("Type to find your organisation…"),
            key="su_organisation_id",
        )
        forms.field_error(FORM, "organisation_id")
        forms.field_error(FORM, "organisation_name")
    elif creating:
        new_org = st.columns(3)
        new_org[0].text_input(_("New organisation's name *"), key="su_organisation_name")
        new_org[1].selectbox(
            _("Type"),
            options=list(taxonomy.ORGANISATION_TYPES),
            format_func=taxonomy.ORGANISATION_TYPES.label,
            key="su_organisation_type",
        )
        new_org[2].selectbox(
            _("Country *"),
            options=list(geo.countries()),
            format_func=geo.country_name,
            index=None,
            placeholder=_("Choose…"),
            key="su_organisation_country",
        )
        forms.field_error(FORM, "organisation_name")
        forms.field_error(FORM, "organisation_country")
    submitted = st.form_submit_button(_("Create account"), type="primary")
    # Joining, a missing organisation is reported under the one field on screen for it.
    joining_labels = LABELS | {"organisation_name": LABELS["organisation_id"]}
    forms.error_summary(FORM, joining_labels if joining else LABELS)

if submitted:
    problems = claim_view.role_problems(claim, state.get("su_role")) if claim else {}
    try:
        data = accounts.OwnerRegistration(
            username=state.su_username,
            display_name=state.su_display_name,
            email=state.su_email,
            password=state.su_password,
            invitation=invitation,
            claiming=claim is not None,
            organisation_id=state.get("su_organisation_id") if joining else None,
            organisation_name=state.get("su_organisation_name") if creating else None,
            organisation_type=state.get("su_organisation_type") if creating else None,
            organisation_country=state.get("su_organisation_country") if creating else None,
        )
        if state.su_password != state.su_password_again:
            problems |= {"password_again": _("the passwords differ")}
        if problems:
            forms.show_errors_and_rerun(FORM, problems)
        if claim is not None:
            claims.sign_up_and_claim(
                data=data,
                claim=ClaimCreate(practice_id=claim.id, role=state.su_role),
                client=auth.client_address(),
            )
        else:
            registration = organisations.sign_up(data=data, client=auth.client_address())
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(FORM, field_errors(error) | problems)
    except (ratelimits.RateLimited, StateConflict) as refusal:
        forms.show_errors_and_rerun(FORM, {"form": str(refusal)})
    forms.clear_errors(FORM)
    if claim is not None:
        state.signed_up = claim_view.claim_sent(data.username, claim)
        st.rerun()
    user, organisation = md_escape(registration.user.username), md_escape(registration.organisation)
    state.signed_up = (
        _("Account **{user}** created as a member of **{organisation}**. You can sign in now.")
        if registration.status == "active"
        else _(
            "Account **{user}** created. Your request to join **{organisation}** waits for one "
            "of its members or a coordinator; until then you see only what is public. You can "
            "sign in now."
        )
    ).format(user=user, organisation=organisation)
    st.rerun()
