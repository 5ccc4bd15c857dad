"""Following twinnings: the coordinators' dashboard of twinnings under way (late milestones
first), each organisation's twinnings, and one twinning's follow-up (`?twinning=ID`)."""

import streamlit as st

from dhu_core import params
from dhu_core.calls import follow_up
from dhu_core.i18n import _
from dhu_core.ui import follow_up_view, shell

user = shell.page_for_role("owner", "coordinator", "admin")
st.title(_("Twinning follow-up"))
if message := st.session_state.pop(follow_up_view.MESSAGE, None):
    st.success(message)

opened = params.identifier(st.query_params.get_all("twinning"))
if opened is not None:
    follow_up_view.twinning_page(user, opened)
    st.page_link("app_pages/follow_up.py", label=_("All twinnings"), icon=":material/arrow_back:")
    # Written even when unchanged: a link to this page leaves the address bar as it was.
    st.query_params.from_dict({"twinning": str(opened)})
elif follow_up.is_coordinator(user):
    st.markdown(_("Every twinning under way with its next milestone; late ones come first."))
    follow_up_view.dashboard(user)
else:
    st.markdown(_("The twinnings of your organisation: milestones, reports and lessons learned."))
    follow_up_view.own_twinnings(user)
