"""Sign in: owners, coordinators and administrators."""

import streamlit as st

from dhu_core import demo_logins
from dhu_core.config import get_settings
from dhu_core.i18n import _
from dhu_core.ui import auth, cached

st.title(_("Sign in"))
auth.login_form()
st.page_link("app_pages/forgot_password.py", label=_("Forgot password?"))
st.page_link("app_pages/sign_up.py", label=_("No account yet? Register as a practice owner"))

if cached.is_demo():
    with st.expander(_("Demo accounts"), expanded=True):
        logins = demo_logins.shown(settings=get_settings()) if auth.is_local_client() else []
        if logins:
            st.caption(
                _(
                    "These accounts exist only in the demo database. Their passwords were drawn "
                    "when the demo data were generated; only a browser on the server's machine "
                    "sees them here."
                )
            )
            st.table(
                {
                    _("username"): [login.username for login in logins],
                    _("password"): [login.password for login in logins],
                    _("role"): [login.role for login in logins],
                }
            )
        else:
            st.caption(
                _(
                    "The demo database has accounts for each role. Their passwords were printed "
                    "on the server's console when the demo data were generated, and are shown "
                    "here only in a browser on the server's own machine."
                )
            )
