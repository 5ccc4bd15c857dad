"""A real SMTP server on localhost for the tests (aiosmtpd), and ones that misbehave.

`MailServer` keeps every message it accepts; `refuse=True` answers every message with a 5xx
error, `disconnect=True` hangs up after the message's data instead of answering.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Handler:
    """Accepts, refuses or drops each message, as the server is told to."""

    refuse: bool = False
    disconnect: bool = False
    received: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.disconnect:
            server.transport.close()
            return "421 closing"
        if self.refuse:
            return "554 5.7.1 Message refused by policy"
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.received.append(message)
        return "250 OK"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.received]


@contextmanager
def mail_server(port: int | None = None, **behaviour) -> Iterator[tuple[str, Handler]]:
    """A running SMTP server: (its `smtp://` URL, its handler with the messages received)."""
    handler = Handler(**behaviour)
    port = port or free_port()
    controller = Controller(handler, hostname=HOST, port=port, ready_timeout=10)
    controller.start()
    try:
        yield f"smtp://{HOST}:{port}", handler
    finally:
        controller.stop()
