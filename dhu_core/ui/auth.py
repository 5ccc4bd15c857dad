"""Sign-in: the form, the session, and the login cookie that keeps a browser signed in.

The database decides every sign-in (`accounts.authenticate`: throttling per account and client,
audit, disabled accounts). The login cookie is a token of `dhu_core.tokens` (the account's id
and an expiry, signed with HMAC-SHA256 under a key of its own); it is honoured only when it was
issued after the account's last logout, password change or disabling. The browser writes and
deletes the cookie through extra-streamlit-components' cookie component (a page's Python code
cannot set a cookie); the server reads it from the request that opened the session.
"""

import contextlib
from datetime import datetime, timedelta

import extra_streamlit_components as stx
import streamlit as st

from dhu_core import accounts, clients, db, tokens
from dhu_core.config import get_settings, server_trusted, trusted_proxies
from dhu_core.i18n import _
from dhu_core.models import User, utcnow

COOKIE_NAME = "dhu_session"
COOKIE_DAYS = 7.0
#: The purpose the login cookie's token is signed for: no other token passes as one.
COOKIE_PURPOSE = "session"
_USER_ID = "dhu_user_id"
_SIGNED_IN_AT = "dhu_signed_in_at"
_LOGIN_ERROR = "dhu_login_error"
#: Set when this session signed out: the request that opened it may still carry the cookie.
_SIGNED_OUT = "dhu_signed_out"
#: "set" or "delete": what the browser still has to do with the cookie. The cookie component
#: writes it in the browser and then answers True under its key ("set", "delete").
_COOKIE_TODO = "dhu_cookie_todo"


def _start_session(user: User, signed_in_at: datetime) -> None:
    st.session_state.update({_USER_ID: user.id, _SIGNED_IN_AT: signed_in_at})
    st.session_state.pop(_LOGIN_ERROR, None)
    st.session_state.pop(_SIGNED_OUT, None)


def _end_session() -> None:
    # A cookie still to be written would name the session that ended.
    for key in (_USER_ID, _SIGNED_IN_AT, _COOKIE_TODO):
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


def restore_session() -> User | None:
    """Sign in from a valid cookie when needed; return the signed-in, still valid account."""
    _write_cookie()
    if st.session_state.get(_USER_ID) is None and not st.session_state.get(_SIGNED_OUT):
        _sign_in_with_cookie(st.context.cookies.get(COOKIE_NAME))
    return current_user()


def _sign_in_with_cookie(cookie: str | None) -> None:
    """Start the session of the account a valid cookie names; any other cookie is no cookie."""
    if not cookie:
        return
    try:
        user_id, expires = tokens.read_with_expiry(COOKIE_PURPOSE, cookie)
    except tokens.InvalidToken:
        return
    issued_at = expires - timedelta(days=COOKIE_DAYS)
    with db.read_scope() as session:
        user = accounts.user_for_cookie(session=session, user_id=user_id, issued_at=issued_at)
    if user is not None:
        _start_session(user, issued_at)


def _write_cookie() -> None:
    """Draw the cookie component while the browser has not said it wrote or deleted the cookie.

    A run that draws it can be replaced by the next one (a click, a page opened) before the
    browser has run it; the cookie is then written by the component drawn in the next run.
    """
    todo = st.session_state.get(_COOKIE_TODO)
    if todo is None:
        return
    cookies = stx.CookieManager()
    if todo == "set":
        expires = st.session_state[_SIGNED_IN_AT] + timedelta(days=COOKIE_DAYS)
        cookies.set(
            COOKIE_NAME,
            tokens.make(COOKIE_PURPOSE, st.session_state[_USER_ID], expires),
            key="set",
            # Max-Age, which browsers prefer, needs no clock of theirs; Expires for the others.
            max_age=max(0, (expires - utcnow()).total_seconds()),
            expires_at=expires.astimezone().replace(tzinfo=None),
            same_site="strict",
        )
    else:
        # KeyError when the browser did not list the cookie: the component is drawn all the same.
        with contextlib.suppress(KeyError):
            cookies.delete(COOKIE_NAME, key="delete")
    if st.session_state.get(todo) is True:
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
    """The sign-in form, with the database's answer shown under it (the page's title already
    says "Sign in")."""
    with st.form("sign-in"):
        username = st.text_input(_("Username"), autocomplete="username")
        password = st.text_input(_("Password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(_("Sign in"))
    if submitted:
        _sign_in(username, password)
    if st.session_state.get(_LOGIN_ERROR):
        st.error(st.session_state[_LOGIN_ERROR])
    if st.session_state.get(_USER_ID) is not None:
        st.rerun()


def _sign_in(username: str, password: str) -> None:
    if not username.strip() or not password:
        st.session_state[_LOGIN_ERROR] = _("Enter your username and your password.")
        return
    try:
        user = accounts.authenticate(username=username, password=password, client=client_address())
    except accounts.LoginFailed as failure:
        st.session_state[_LOGIN_ERROR] = str(failure)
        return
    _start_session(user, utcnow())
    st.session_state[_COOKIE_TODO] = "set"


def logout_button(user: User) -> None:
    """A sign-out button in the sidebar for the signed-in `user`; it ends the session on the
    server too."""
    if not st.sidebar.button(_("Sign out"), key="sign-out"):
        return
    with db.session_scope() as session:
        accounts.sign_out(session=session, actor=user)
    _end_session()
    st.session_state[_SIGNED_OUT] = True
    st.session_state[_COOKIE_TODO] = "delete"
    st.rerun()  # rebuild the menu for a visitor
