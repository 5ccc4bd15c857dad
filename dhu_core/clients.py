"""Who is at the other end of a connection: the client address, and whether it is this machine.

Streamlit runs on uvicorn, whose proxy-header middleware replaces the connection's address with
the right-most X-Forwarded-For entry it does not trust whenever the connection comes from a
host it trusts (`FORWARDED_ALLOW_IPS`, loopback by default). So a process on this machine, or
a reverse proxy here that passes the header on, can make any address appear. The address the
app sees (`st.context.ip_address`) is therefore not the connection's; `peer_address` recovers
it from that address and the request's headers, and `client_address` then applies our own
policy: X-Forwarded-For counts only when the connection comes from `DHU_TRUSTED_PROXIES`.
"""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: uvicorn's default for FORWARDED_ALLOW_IPS, the hosts whose X-Forwarded-For it believes.
SERVER_DEFAULT_TRUSTED = "127.0.0.1,::1"
#: Headers a reverse proxy adds: a request that carries one did not come from a local browser.
FORWARDING_HEADERS = ("forwarded", "x-real-ip", "via")
#: The longest client address kept (the column of the sign-in throttle).
MAX_ADDRESS = 64
#: Stands for "one of the hosts uvicorn trusts" (FORWARDED_ALLOW_IPS), whose X-Forwarded-For
#: uvicorn believed. Not an address, so it can never be mistaken for one a header names.
SERVER_TRUSTED_PEER = "server-trusted-peer"


@dataclass(frozen=True)
class Connection:
    """What the web server tells about a connection."""

    #: The client address the server settled on (after uvicorn's proxy-header rewrite), with
    #: ::1 reported as 127.0.0.1 (Streamlit hides both); None without one (a Unix socket).
    server_address: str | None
    #: The request's headers as (name, value) pairs; names in any letter case, repeats kept.
    headers: tuple[tuple[str, str], ...] = ()

    def values(self, name: str) -> list[str]:
        """Every value of the header `name`, in the order received."""
        return [value for key, value in self.headers if key.lower() == name]


@dataclass(frozen=True)
class Trusted:
    """A set of hosts given as IP addresses, networks (CIDR) or, as uvicorn allows, literals."""

    networks: tuple[Network, ...] = ()
    literals: frozenset[str] = frozenset()
    everyone: bool = False

    def __contains__(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if not host:
            return False
        # Compared as uvicorn compares them: "::ffff:127.0.0.1" is not "127.0.0.1".
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return host in self.literals
        return any(ip.version == net.version and ip in net for net in self.networks)

    def overlaps(self, other: "Trusted") -> bool:
        """True when some host named in `other` is one of these (never when `other` is "*")."""
        if other.everyone:
            return False
        return bool(self.literals & other.literals) or any(
            a.version == b.version and a.overlaps(b) for a in self.networks for b in other.networks
        )


def parse_trusted(value: str, *, strict: bool = False) -> Trusted:
    """The hosts of a comma-separated list such as "127.0.0.1, 10.0.0.0/8".

    Without `strict`, read exactly as uvicorn reads FORWARDED_ALLOW_IPS: "*" is everyone, and
    an entry that is no address or network is kept as a literal. With `strict` (our own
    setting) such an entry raises ValueError, and a network may have host bits set.
    """
    if value == "*" and not strict:
        return Trusted(everyone=True)
    networks: list[Network] = []
    literals: set[str] = set()
    for entry in (entry.strip() for entry in value.split(",")):
        try:
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=not strict))
            else:
                networks.append(ipaddress.ip_network(ipaddress.ip_address(entry)))
        except ValueError:
            if strict and entry:
                raise ValueError(f"'{entry}' is not an IP address or network") from None
            literals.add(entry)
    return Trusted(tuple(networks), frozenset(literals - {""}))


def ip_or_none(host: str) -> Address | None:
    """The IP address `host` names (an IPv4-mapped IPv6 address as IPv4), else None."""
    try:
        ip = ipaddress.ip_address(host.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_loopback(host: str | None) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.strip().lower() == "localhost":
        return True
    ip = ip_or_none(host.strip().strip("[]"))
    return ip is not None and ip.is_loopback


def _forwarded_for(connection: Connection) -> list[str]:
    # uvicorn joins repeated X-Forwarded-For headers with ", " the same way.
    joined = ", ".join(connection.values("x-forwarded-for"))
    return [entry.strip() for entry in joined.split(",")] if joined else []


def _host(entry: str) -> str:
    """The host of an X-Forwarded-For entry, without a port (as uvicorn reads it)."""
    if entry.startswith("["):
        end = entry.find("]")
        return entry[1:end] if end != -1 else entry
    if entry.count(":") == 1:
        host, port = entry.rsplit(":", 1)
        return host if port.isdigit() else entry
    return entry


def _server_choice(entries: Sequence[str], server_trusted: Trusted) -> str:
    """The address uvicorn takes from X-Forwarded-For when it trusts the connection."""
    if server_trusted.everyone:
        return _host(entries[0])
    for entry in reversed(entries):
        if _host(entry) not in server_trusted:
            return _host(entry)
    return _host(entries[0])


def peer_address(connection: Connection, server_trusted: Trusted) -> str | None:
    """The address of the host that opened the connection, as far as it can be known.

    When uvicorn replaced it, the peer was one of `server_trusted`; which one is lost, so the
    result is then `SERVER_TRUSTED_PEER`. None for a connection without an address.
    """
    entries = _forwarded_for(connection)
    if not entries:
        return connection.server_address
    choice = _server_choice(entries, server_trusted)
    if choice == "::1":
        choice = "127.0.0.1"  # as the server address is reported
    if choice and connection.server_address == choice:
        return SERVER_TRUSTED_PEER
    return connection.server_address


def client_address(connection: Connection, *, proxies: Trusted, server_trusted: Trusted) -> str:
    """The client's address for throttling and audit: X-Forwarded-For counts only via `proxies`.

    Walking X-Forwarded-For from the right, every address that is one of `proxies` is skipped;
    the first other one is the client. A connection from elsewhere is the client itself, so
    whatever it writes in the header changes nothing.
    """
    peer = peer_address(connection, server_trusted)
    # When uvicorn believed the header, the peer was one of its trusted hosts: which one is lost,
    # and any process on those hosts may connect from any of them.
    via = proxies.overlaps(server_trusted) if peer == SERVER_TRUSTED_PEER else peer in proxies
    if not via:
        return (peer or "unknown")[:MAX_ADDRESS]
    client = peer
    for entry in reversed(_forwarded_for(connection)):
        host = _host(entry)
        try:
            client = str(ipaddress.ip_address(host))
        except ValueError:
            break  # not written by a proxy of ours: keep the last address we can vouch for
        if host in server_trusted and host not in proxies:
            # A host uvicorn trusts, so it may be what uvicorn skipped on a forged header:
            # name them all alike, or a client could pick one of them as its own address.
            return SERVER_TRUSTED_PEER
        if host not in proxies:
            break
    return (client or "unknown")[:MAX_ADDRESS]


def is_forwarded(connection: Connection) -> bool:
    """True when the request carries a header that a proxy adds."""
    return any(
        name.lower().startswith("x-forwarded-") or name.lower() in FORWARDING_HEADERS
        for name, _ in connection.headers
    )


def is_local_client(connection: Connection) -> bool:
    """True only for a browser on this machine: a loopback connection that no proxy forwarded.

    Uvicorn rewrites the address only when an X-Forwarded-For header is present, and any such
    header makes this False, so the address checked is the connection's own.
    """
    return not is_forwarded(connection) and is_loopback(connection.server_address)
