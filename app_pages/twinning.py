"""Twinning: owners state needs and see ranked practices; coordinators make twinnings."""

import streamlit as st

from dhu_core import twinning
from dhu_core.i18n import _
from dhu_core.ui import shell, twinning_view

user = shell.page_for_role("owner", "coordinator", "admin")
st.title(_("Twinning"))
st.markdown(
    _(
        "An adopter states what it needs; the platform ranks practices whose owners are willing "
        "to transfer them and explains every score. Coordinators turn the best pairs into "
        "twinnings and follow them to completion."
    )
)
if message := st.session_state.pop("twinning_message", None):
    st.success(message)

if user.role in twinning.COORDINATORS:
    needs_tab, twinnings_tab, call_tab, weights_tab = st.tabs(
        [_("Needs and candidates"), _("Twinnings"), _("Call allocation"), _("Weights")],
        key="coordinator_tab",
    )
    with needs_tab:
        twinning_view.coordinator_needs(user)
    with twinnings_tab:
        twinning_view.twinnings(user)
    with call_tab:
        twinning_view.call_allocation(user)
    with weights_tab:
        twinning_view.weights_editor(user)
else:
    mine_tab, new_tab, twinnings_tab = st.tabs(
        [_("My needs"), _("State a need"), _("My twinnings")], key="owner_tab"
    )
    with mine_tab:
        twinning_view.owner_needs(user)
    with new_tab:
        twinning_view.need_form(user)
    with twinnings_tab:
        twinning_view.twinnings(user)
