"""Connections accepted on a socket bound as `streamlit run` binds it get TCP_NODELAY."""

import asyncio
import socket
import threading

from dhu_core import nodelay


def _accepted_nodelay() -> int:
    """TCP_NODELAY of the server side of a connection to a listening socket made with protocol
    0, as Streamlit's server makes it."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    seen: list[int] = []

    async def run() -> None:
        def accepted(reader, writer) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname())
            while not seen:
                await asyncio.sleep(0.01)
            writer.close()

    # In a thread of its own: a test before may have left an event loop running in this one.
    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join(timeout=30)
    return seen[0]


def test_accepted_connections_send_at_once(monkeypatch):
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", nodelay._asyncio_set_nodelay)
    assert _accepted_nodelay() == 0  # asyncio alone leaves Nagle on for such a socket
    nodelay.enable()
    assert _accepted_nodelay() != 0
