"""Evaluation: the applications assigned to an evaluator (`/evaluation`), and the score form of
one of them (`?application=ID`) with every criterion's score and comment."""

import streamlit as st

from dhu_core import params
from dhu_core.i18n import _
from dhu_core.ui import call_evaluation_view, shell

user = shell.page_for_role("evaluator")
st.title(_("Evaluation"))
if message := st.session_state.pop(call_evaluation_view.MESSAGE, None):
    st.success(message)

opened = params.identifier(st.query_params.get_all("application"))
if opened is not None:
    call_evaluation_view.score_page(user, opened)
    st.page_link(
        "app_pages/evaluation.py", label=_("All my applications"), icon=":material/arrow_back:"
    )
    # Written even when unchanged: a link to this page leaves the address bar as it was.
    st.query_params.from_dict({"application": str(opened)})
else:
    st.markdown(
        _(
            "The applications to twinning calls assigned to you. Score every criterion with a "
            "comment; declare a conflict of interest if you have one."
        )
    )
    call_evaluation_view.assignment_list(user)
