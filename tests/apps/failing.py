"""A page that fails the way a defect would, with SQL in its message (test_browser_errors)."""

import streamlit as st

from dhu_core.ui import shell

SECRET = "SELECT password_hash FROM account WHERE username = 'demo-admin'"


def failing_step() -> None:
    st.write("Before the failure.")
    raise RuntimeError(SECRET)


if st.query_params.get("where") == "guarded":
    shell.guarded(failing_step)()
else:
    failing_step()
