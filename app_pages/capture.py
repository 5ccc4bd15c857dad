"""Quick capture: a workshop audience registers a practice in seconds; coordinators complete it."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import accounts, db, geo, live
from dhu_core.i18n import _
from dhu_core.models import CaptureCreate, FieldError, field_errors, utcnow
from dhu_core.ui import auth, capture_view, forms, practice_form

FORM = "capture"
#: Capture field -> widget key.
KEYS = {
    "title": "qc_title",
    "country": "qc_country",
    "practice_type": "qc_type",
    "contact_email": "qc_email",
}
state = st.session_state

st.title(_("Register your practice in 30 seconds"))
st.markdown(
    _(
        "Name your digital health practice, where it runs and how to reach you. A coordinator "
        "will get in touch to complete it before it appears on the platform."
    )
)
if state.pop("capture_done", False):
    for key in KEYS.values():
        state.pop(key, None)
    st.success(_("Thank you! Your practice is registered; a coordinator will contact you."))

with st.form(FORM):
    st.text_input(_("Name of the practice *"), key=KEYS["title"])
    forms.field_error(FORM, "title")
    st.selectbox(
        _("Country *"),
        options=list(geo.shown_country_names()),
        format_func=geo.country_name,
        index=None,
        placeholder=_("Choose…"),
        key=KEYS["country"],
    )
    forms.field_error(FORM, "country")
    practice_form.practice_type_select(FORM, KEYS["practice_type"])
    st.text_input(_("Your e-mail *"), key=KEYS["contact_email"])
    forms.field_error(FORM, "contact_email")
    forms.field_error(FORM, "form")
    sent = st.form_submit_button(_("Send"), type="primary", icon=":material/send:")

if sent:
    earlier = state.setdefault("capture_times", [])
    try:
        data = CaptureCreate(**{name: state[key] for name, key in KEYS.items()})
        with db.session_scope() as session:
            live.capture_practice(
                session=session,
                data=data,
                actor=auth.current_user() or accounts.visitor(),
                client=auth.client_address(),
                earlier=earlier,
            )
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(FORM, field_errors(error))
    except live.CaptureLimit as limit:
        forms.show_errors_and_rerun(FORM, {"form": str(limit)})
    earlier.append(utcnow())
    forms.clear_errors(FORM)
    state["capture_done"] = True
    st.rerun()

user = auth.current_user()
if user is not None and user.role in live.COORDINATORS:
    st.divider()
    capture_view.completion(user)
