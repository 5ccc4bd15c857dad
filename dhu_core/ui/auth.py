"""Sign-in with streamlit-authenticator's widget and cookie, hardened by `dhu_core.accounts`.

The library checks passwords against an in-memory dict, counts failures in memory, and signs a
cookie that stays valid after logout. Here its credential check is replaced by the database
(`accounts.authenticate`: throttling per account and client, audit, disabled accounts), and a
cookie is honoured only when it was issued after the account's last logout, password change
or disabling. The library is never given an `api_key`, so nothing is sent to its server.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from dhu_core import accounts, clients, db
from dhu_core.config import cookie_key, get_settings, server_trusted, trusted_proxies
from dhu_core.i18n import _
from dhu_core.models import User, utcnow

COOKIE_NAME = "dhu_session"
COOKIE_DAYS = 7.0
_USER_ID = "dhu_user_id"
_SIGNED_IN_AT = "dhu_signed_in_at"
_LOGIN_ERROR = "dhu_login_error"
_AUTHENTICATOR = "dhu_authenticator"
#: "set" or "delete": what the browser still has to do with the cookie. The library's cookie
#: component writes it in the browser and then answers True under its key ("set", "delete").
_COOKIE_TODO = "dhu_cookie_todo"


class _DatabaseLogin:
    """Stands in for the library's AuthenticationController: the database decides."""

    def login(
        self,
        username: str | None = None,
        password: str | None = None,
        *_: Any,
        token: dict | None = None,
        **__: Any,
    ) -> bool | None:
        if token:
            return self._login_with_cookie(token)
        if not username:
            return None
        try:
            user = accounts.authenticate(
                username=username, password=password or "", client=client_address()
            )
        except accounts.LoginFailed as failure:
            st.session_state["authentication_status"] = False
            st.session_state[_LOGIN_ERROR] = str(failure)
            return False
        _start_session(user, utcnow())
        st.session_state[_COOKIE_TODO] = "set"
        return True

    def _login_with_cookie(self, token: dict) -> bool | None:
        try:
            expires = datetime.fromtimestamp(float(token["exp_date"]), UTC)
            username = str(token["username"])
        except (KeyError, TypeError, ValueError):
            return None
        issued_at = expires - timedelta(days=COOKIE_DAYS)
        with db.read_scope() as session:
            user = accounts.user_for_cookie(session=session, username=username, issued_at=issued_at)
        if user is None:
            return None
        _start_session(user, issued_at)
        return True

    def logout(self, callback: Any = None) -> None:
        user = current_user()
        if user is not None:
            with db.session_scope() as session:
                accounts.sign_out(session=session, actor=user)
        _end_session()
        st.session_state["logout"] = True
        st.session_state[_COOKIE_TODO] = "delete"


def _start_session(user: User, signed_in_at: datetime) -> None:
    st.session_state.update(
        {
            "authentication_status": True,
            "username": user.username,
            "name": user.display_name,
            "email": user.email,
            "roles": [user.role],
            _USER_ID: user.id,
            _SIGNED_IN_AT: signed_in_at,
        }
    )
    st.session_state.pop(_LOGIN_ERROR, None)


def _end_session() -> None:
    for key in ("authentication_status", "username", "name", "email", "roles"):
        st.session_state[key] = None
    for key in (_USER_ID, _SIGNED_IN_AT):
        st.session_state.pop(key, None)


def connection() -> clients.Connection:
    """This session's connection: the address the server settled on and the request headers."""
    headers = st.context.headers
    pairs = tuple((name.lower(), value) for name in headers for value in headers.get_all(name))
    address = st.context.ip_address
    if not isinstance(address, str):
        # Streamlit reports 127.0.0.1 and ::1 as None; a Unix socket has no address at all.
        unix = str(st.get_option("server.address") or "").startswith("unix://")
        address = None if unix else "127.0.0.1"
    return clients.Connection(address, pairs)


def client_address() -> str:
    settings = get_settings()
    return clients.client_address(
        connection(), proxies=trusted_proxies(settings), server_trusted=server_trusted(settings)
    )


def is_local_client() -> bool:
    """True when this session's browser runs on the server's own machine, with no proxy between."""
    return clients.is_local_client(connection())


def authenticator() -> stauth.Authenticate:
    """The library's authenticator with the database behind it; main.py makes one per run."""
    auth = stauth.Authenticate(
        {"usernames": {}},
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(get_settings()),
        cookie_expiry_days=COOKIE_DAYS,
        auto_hash=False,
        login_sleep_time=0,  # the cookie is read from the request, no need to wait for it
    )
    auth.authentication_controller = _DatabaseLogin()
    st.session_state[_AUTHENTICATOR] = auth
    return auth


def this_runs_authenticator() -> stauth.Authenticate:
    """The authenticator main.py made for this run (its cookie component renders only once)."""
    return st.session_state[_AUTHENTICATOR]


def restore_session(auth: stauth.Authenticate) -> User | None:
    """Sign in from a valid cookie when needed; return the signed-in, still valid account."""
    _write_cookie(auth)
    if not st.session_state.get("authentication_status"):
        try:
            auth.login(location="unrendered")
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            # The library lets a cookie with another algorithm (alg=none, HS512) or odd claims
            # raise on every page; any cookie it cannot verify counts as no cookie at all.
            _end_session()
    return current_user()


def _write_cookie(auth: stauth.Authenticate) -> None:
    """Draw the cookie component while the browser has not said it wrote or deleted the cookie.

    A run that draws it can be replaced by the next one (a click, a page opened) before the
    browser has run it; the cookie is then written by the component drawn in the next run.
    """
    todo = st.session_state.get(_COOKIE_TODO)
    if todo == "set":
        auth.cookie_controller.set_cookie()
    elif todo == "delete":
        auth.cookie_controller.delete_cookie()
    if todo is not None and st.session_state.get(todo) is True:
        del st.session_state[_COOKIE_TODO]


def current_user() -> User | None:
    """The signed-in account, or None; an account disabled or signed out elsewhere ends here."""
    user_id = st.session_state.get(_USER_ID)
    if user_id is None:
        return None
    with db.read_scope() as session:
        user = accounts.current_user(
            session=session, user_id=user_id, signed_in_at=st.session_state[_SIGNED_IN_AT]
        )
    if user is None:
        _end_session()
    return user


def renew_session() -> None:
    """Keep this session (and a fresh cookie) after the password was changed here."""
    st.session_state[_SIGNED_IN_AT] = utcnow()
    st.session_state[_COOKIE_TODO] = "set"


def login_form() -> None:
    """The library's login widget, with the database's answer shown under it.

    The widget's own heading is left empty: the page's title already says "Sign in".
    """
    this_runs_authenticator().login(
        location="main",
        fields={
            "Form name": "",
            "Username": _("Username"),
            "Password": _("Password"),
            "Login": _("Sign in"),
        },
        key="sign-in",
    )
    if st.session_state.get(_LOGIN_ERROR):
        st.error(st.session_state[_LOGIN_ERROR])
    if st.session_state.get("authentication_status"):
        st.rerun()


def logout_button(auth: stauth.Authenticate) -> None:
    """A sign-out button in the sidebar; it ends the session on the server too."""
    auth.logout(_("Sign out"), location="sidebar", key="sign-out")
    if st.session_state.get(_COOKIE_TODO) == "delete":
        st.rerun()  # rebuild the menu for a visitor
