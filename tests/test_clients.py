"""Client addresses: X-Forwarded-For counts only from configured proxies; who is local."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dhu_core import clients
from dhu_core.clients import Connection, client_address, is_local_client, parse_trusted
from dhu_core.config import Settings, UnsafeSetting, trusted_proxies

SERVER_DEFAULT = parse_trusted(clients.SERVER_DEFAULT_TRUSTED)
NO_PROXIES = parse_trusted("", strict=True)


def as_the_app_sees(
    peer: str | None, headers: list[tuple[str, str]], allow: str = clients.SERVER_DEFAULT_TRUSTED
) -> Connection:
    """The connection as the app sees it after uvicorn's real proxy-header middleware."""
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"]

    scope = {
        "type": "websocket",
        "client": (peer, 50_000) if peer else None,
        "headers": [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
    }
    _run_at_once(ProxyHeadersMiddleware(app, trusted_hosts=allow)(scope, None, None))
    host = seen["client"][0] if seen["client"] else None
    # st.context.ip_address hides both loopback addresses; dhu_core.ui.auth reads that as 127.0.0.1
    return Connection("127.0.0.1" if host == "::1" else host, tuple(headers))


def _run_at_once(coroutine) -> None:
    """Run a coroutine that never waits, without an event loop (Playwright's sync API keeps one
    running in this thread once a browser test has run, and asyncio.run refuses then)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise AssertionError("the middleware waited for something")


def client(peer, headers, proxies="", allow=clients.SERVER_DEFAULT_TRUSTED) -> str:
    return client_address(
        as_the_app_sees(peer, headers, allow),
        proxies=parse_trusted(proxies, strict=True),
        server_trusted=parse_trusted(allow),
    )


SPOOFED = [f"203.0.113.{n}" for n in range(1, 40)]


def test_uvicorn_itself_believes_a_header_sent_from_this_machine():
    # The flaw this module works around: Streamlit's address follows the header.
    seen = {as_the_app_sees("127.0.0.1", [("X-Forwarded-For", a)]).server_address for a in SPOOFED}
    assert seen == set(SPOOFED)


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1", "198.51.100.7"])
def test_rotating_x_forwarded_for_without_a_trusted_proxy_gives_one_address(peer):
    addresses = {client(peer, [("X-Forwarded-For", spoofed)]) for spoofed in SPOOFED}
    assert len(addresses) == 1
    assert not addresses & set(SPOOFED)


def test_a_remote_client_naming_itself_in_the_header_stays_in_few_buckets():
    # uvicorn ignores the header here, so the app sees the peer, which the header also names.
    addresses = {
        client("198.51.100.7", [("X-Forwarded-For", header)])
        for header in ["198.51.100.7", "198.51.100.7, 203.0.113.1", "203.0.113.2", ""]
    }
    assert len(addresses) <= 2
    assert not addresses & set(SPOOFED)


def test_nginx_on_the_same_host_names_the_client():
    for spoofed in SPOOFED:
        # nginx's $proxy_add_x_forwarded_for: what the client sent, then the address it saw.
        header = [("X-Forwarded-For", f"{spoofed}, 198.51.100.7")]
        assert client("127.0.0.1", header, proxies="127.0.0.1") == "198.51.100.7"
        assert client("::1", header, proxies="127.0.0.1,::1") == "198.51.100.7"
    assert client("127.0.0.1", [], proxies="127.0.0.1") == "127.0.0.1"


def test_a_proxy_on_another_host_names_the_client_and_nobody_else_does():
    header = [("X-Forwarded-For", "203.0.113.5, 198.51.100.7:4711")]
    assert client("10.0.0.5", header, proxies="10.0.0.5") == "198.51.100.7"
    assert client("10.0.0.9", header, proxies="10.0.0.5") == "10.0.0.9"
    assert client("10.0.0.5", header) == "10.0.0.5"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right():
    header = [("X-Forwarded-For", "203.0.113.5, 198.51.100.7"), ("X-Forwarded-For", "10.0.0.7")]
    assert client("10.0.0.5", header, proxies="10.0.0.0/24") == "198.51.100.7"
    assert client("10.0.0.5", [("X-Forwarded-For", "10.0.0.8")], proxies="10.0.0.0/24") == (
        "10.0.0.8"
    )


def test_an_entry_that_is_no_address_stops_the_walk_at_the_last_trusted_hop():
    header = [("X-Forwarded-For", "<script>, 10.0.0.7")]
    assert client("10.0.0.5", header, proxies="10.0.0.0/24") == "10.0.0.7"


def test_a_wildcard_forwarded_allow_ips_is_never_taken_as_a_proxy_of_ours():
    addresses = {
        client("198.51.100.7", [("X-Forwarded-For", s)], proxies="10.0.0.5", allow="*")
        for s in SPOOFED
    }
    assert len(addresses) == 1 and not addresses & set(SPOOFED)


ADDRESSES = st.sampled_from(
    ["127.0.0.1", "::1", "10.0.0.5", "198.51.100.7", "203.0.113.9", "::ffff:127.0.0.1"]
)
ENTRIES = st.one_of(
    ADDRESSES, st.sampled_from(["", "junk", "[::1]:80", "203.0.113.9:8080", "127.0.0.1:1"])
)


@given(
    peer=ADDRESSES,
    forwarded=st.lists(st.lists(ENTRIES, min_size=1, max_size=3), max_size=2),
    proxies=st.sampled_from(["", "127.0.0.1", "10.0.0.5", "10.0.0.0/8,127.0.0.1,::1"]),
)
def test_without_a_trusted_proxy_the_header_never_chooses_the_address(peer, forwarded, proxies):
    headers = [("X-Forwarded-For", ", ".join(entries)) for entries in forwarded]
    peer_is_a_proxy = peer in parse_trusted(proxies, strict=True) or (
        clients.is_loopback(peer) and parse_trusted(proxies, strict=True).overlaps(SERVER_DEFAULT)
    )
    address = client(peer, headers, proxies=proxies)
    if not peer_is_a_proxy:
        as_reported = "127.0.0.1" if peer == "::1" else peer
        assert address in {as_reported, clients.SERVER_TRUSTED_PEER}
        if peer not in SERVER_DEFAULT:
            # A remote peer: uvicorn ignored the header; only its own address can come back.
            assert address in {peer, clients.SERVER_TRUSTED_PEER}


def test_only_a_browser_on_this_machine_without_a_proxy_is_local():
    assert is_local_client(as_the_app_sees("127.0.0.1", []))
    assert is_local_client(as_the_app_sees("::1", [("Host", "localhost:8501")]))
    assert is_local_client(Connection("127.0.0.2"))
    for header in ["X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "Via"]:
        assert not is_local_client(as_the_app_sees("127.0.0.1", [(header, "127.0.0.1")]))
    assert not is_local_client(as_the_app_sees("198.51.100.7", []))
    # A remote client that claims to be local is not believed by uvicorn, nor here.
    assert not is_local_client(as_the_app_sees("198.51.100.7", [("X-Forwarded-For", "127.0.0.1")]))
    assert not is_local_client(Connection(None))  # a Unix socket: a proxy is in between


def test_trusted_proxies_must_be_addresses_or_networks():
    assert trusted_proxies(Settings(dhu_trusted_proxies=" 127.0.0.1, 10.0.0.0/8 ")).networks
    assert not trusted_proxies(Settings(dhu_trusted_proxies="")).networks
    for wrong in ["*", "proxy.example.org", "10.0.0.0/40"]:
        with pytest.raises(UnsafeSetting, match="DHU_TRUSTED_PROXIES"):
            trusted_proxies(Settings(dhu_trusted_proxies=wrong))
