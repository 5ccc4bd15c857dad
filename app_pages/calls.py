"""Twinning calls: the public list, each call's page (`?call=ID`) with its countdown and rules,
applying to an open call, originators' answers, and coordinators' drafting and publishing."""

import streamlit as st

from dhu_core import params
from dhu_core.calls import calls
from dhu_core.i18n import _
from dhu_core.ui import auth, call_award_view, call_view

user = auth.current_user()
st.title(_("Twinning calls"))
if message := st.session_state.pop(call_view.MESSAGE, None):
    st.success(message)

opened = params.identifier(st.query_params.get_all("call"))
tab = params.last(st.query_params.get_all("tab"))
if opened is not None:
    if tab == call_award_view.TAB:
        call_award_view.award_page(user, opened)
    else:
        call_view.call_page(user, opened)
    st.page_link("app_pages/calls.py", label=_("All calls"), icon=":material/arrow_back:")
    # Written even when unchanged: a link to this page leaves the address bar as it was.
    shown = {"call": str(opened)}
    st.query_params.from_dict(shown | ({"tab": tab} if tab == call_award_view.TAB else {}))
else:
    st.markdown(
        _(
            "A call offers places, each with a grant, to adopter organisations that take up a "
            "practice with its originator's help. Apply with one of your needs while a call is "
            "open."
        )
    )
    call_view.call_list(user)
    if calls.is_coordinator(user):
        with st.expander(_("Draft a new call")):
            call_view.call_form(user, None)
