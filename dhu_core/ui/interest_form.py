"""Expressing interest in a need or a practice: a short message to the organisation behind it."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import db, exchange
from dhu_core.i18n import N_, _
from dhu_core.models import FieldError, InterestCreate, User, field_errors
from dhu_core.ui import forms

LABELS = {"text": N_("Your message")}


def interest_button(
    actor: User, *, need_id: int | None = None, practice_id: int | None = None
) -> None:
    """A button that opens the message form; after sending, a confirmation next to it."""
    key = f"interest-{need_id or ''}-{practice_id or ''}"
    if st.session_state.pop(f"{key}-sent", False):
        st.success(
            _("Sent. It is waiting in the other organisation's inbox."), icon=":material/send:"
        )
    with st.popover(_("Express interest"), icon=":material/handshake:"):
        with st.form(key, border=False):
            with forms.field(key, "text"):
                st.text_area(
                    _(LABELS["text"]),
                    key=f"{key}-text",
                    placeholder=_("Who you are, and what you would like to learn or do together…"),
                )
            sent = st.form_submit_button(_("Send"), type="primary")
            forms.error_summary(key, {name: _(label) for name, label in LABELS.items()})
        if sent:
            text = st.session_state[f"{key}-text"]
            try:
                data = InterestCreate(need_id=need_id, practice_id=practice_id, text=text)
                with db.session_scope() as session:
                    exchange.express_interest(session=session, actor=actor, data=data)
            except (ValidationError, FieldError) as error:
                forms.show_errors_and_rerun(key, field_errors(error))
            forms.clear_errors(key)
            del st.session_state[f"{key}-text"]
            st.session_state[f"{key}-sent"] = True
            st.rerun()
