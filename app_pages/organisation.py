"""My organisation: its members, requests to join it, and invitations to colleagues."""

import streamlit as st

from dhu_core.i18n import _
from dhu_core.ui import cached, membership_view, shell

user = shell.page_for_role("owner", "coordinator", "admin")
st.title(_("My organisation"))
if message := st.session_state.pop("organisation_message", None):
    st.success(message)

if user.organisation_id is None:
    membership_view.ask_to_join(user)
    st.stop()

st.caption(cached.organisation_choices().get(user.organisation_id, ""))
st.subheader(_("Requests to join"))
membership_view.join_requests_panel(user)
st.subheader(_("Members"))
membership_view.members_panel(user)
