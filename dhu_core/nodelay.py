"""Answers sent at once on kept-alive connections: TCP_NODELAY on every accepted socket.

asyncio turns Nagle's algorithm off only for sockets whose protocol number is TCP's, and
`streamlit run` binds its listening socket with protocol 0, so the connections it accepts keep
Nagle on. Each answer leaves in two writes (head, then body); the second then waits for the
client's delayed acknowledgement, and every request after the first on a kept-alive connection
takes 40 ms more (measured: `/_stcore/health` 0.4 ms with this, 41 ms without; `dhu bench`
clients and browsers keep connections alive).
"""

import asyncio.base_events
import socket

_asyncio_set_nodelay = asyncio.base_events._set_nodelay


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    else:
        _asyncio_set_nodelay(sock)


def enable() -> None:
    """Turn Nagle's algorithm off on the TCP connections this process's event loops accept
    from now on (call before the server accepts any)."""
    asyncio.base_events._set_nodelay = _set_nodelay
