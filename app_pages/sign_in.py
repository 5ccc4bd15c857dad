"""Sign in: owners, coordinators and administrators."""

import streamlit as st

from dhu_core import demo
from dhu_core.ui import auth, cached

st.title("Sign in")
auth.login_form()
st.page_link("app_pages/sign_up.py", label="No account yet? Register as a practice owner")

if cached.is_demo():
    with st.expander("Demo accounts", expanded=True):
        st.caption("These accounts exist only in the demo database.")
        st.table(
            {
                "username": [a.username for a in demo.DEMO_ACCOUNTS],
                "password": [a.password for a in demo.DEMO_ACCOUNTS],
                "role": [a.role for a in demo.DEMO_ACCOUNTS],
            }
        )
