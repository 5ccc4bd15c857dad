"""Join an organisation through an invitation link (the link a member sent)."""

import streamlit as st

from dhu_core.i18n import _
from dhu_core.ui import auth, membership_view

st.title(_("Join an organisation"))
token = membership_view.invitation_from_url()
if token is None:
    st.caption(_("Open the whole invitation link that a member of your organisation sent you."))
    st.stop()

user = auth.current_user()
if user is None:
    st.page_link(
        "app_pages/sign_up.py",
        label=_("Create your account with this invitation"),
        icon=":material/person_add:",
        query_params={"invitation": token},
    )
    st.caption(_("Have an account already? Sign in, then open the invitation link again."))
else:
    membership_view.accept(user, token)
