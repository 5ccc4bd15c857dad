"""Where the browser of this session reached the app, for links and QR codes it shows."""

from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from dhu_core.config import get_settings, public_url


def app_url(page_path: str) -> str:
    """The app's address for links and QR codes shown on the page at `page_path` ("live").

    DHU_PUBLIC_URL when it is set; else the address this browser opened the page at, without
    the page's own path: so the QR code carries the port the app really runs on. A browser
    could report another address, but only to show it to itself.
    """
    return public_url(get_settings(), _reached(page_path))


def _reached(page_path: str) -> str:
    address = st.context.url
    if not address:  # no browser (a script test): this server on this machine
        return f"http://localhost:{st.get_option('server.port')}"
    scheme, host, path, _, _ = urlsplit(address)
    path = path.rstrip("/")
    if page_path and path.endswith("/" + page_path):
        path = path[: -len(page_path) - 1]
    return urlunsplit((scheme, host, path, "", ""))


def base_path() -> str:
    """The path the app is served under, for links to its own server: "" or "/dhu" when
    server.baseUrlPath is "dhu" (behind a proxy)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""
