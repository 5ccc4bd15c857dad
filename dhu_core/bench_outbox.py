"""Benchmark of the e-mail outbox, for `dhu bench`: messages per second to a local SMTP server.

Runs on a new SQLite file and an SMTP server started on 127.0.0.1 for the run (aiosmtpd, a
test dependency: `pip install -e ".[test]"`); nothing leaves the machine.
"""

import socket
import time
from pathlib import Path

from dhu_core import db, notifications
from dhu_core.config import Settings
from dhu_core.models import utcnow
from dhu_core.notifications import delivery


class _Counter:
    """An SMTP handler that counts the messages it accepts."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.received += 1
        return "250 OK"


def run_outbox_bench(*, workdir: Path, messages: int = 1_000, url: str | None = None) -> dict:
    """Write `messages` e-mails into the outbox, then time one delivery step sending them all.

    `url`: a database to use instead of a new SQLite file in `workdir` (emptied first).
    """
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        return {"skipped": "the local SMTP server needs aiosmtpd: pip install -e '.[test]'"}
    path = workdir / "outbox-bench.sqlite3"
    path.unlink(missing_ok=True)
    engine = db.get_engine(url or f"sqlite:///{path}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        db.delete_all_rows(session)
    started = time.perf_counter()
    with db.session_scope(engine) as session:
        for number in range(messages):
            notifications.enqueue(
                session,
                kind="practice-approved",
                to=[f"owner{number}@example.org"],
                context={"practice_id": number, "practice_title": f"Practice number {number}"},
            )
    enqueued = time.perf_counter() - started
    counter = _Counter()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(counter, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings = Settings(
            dhu_smtp_url=f"smtp://127.0.0.1:{port}", dhu_public_url="https://dhu.example.org"
        )
        started = time.perf_counter()
        report = delivery.deliver_due(engine, now=utcnow(), settings=settings)
        seconds = time.perf_counter() - started
    finally:
        server.stop()
        with db.session_scope(engine) as session:
            db.delete_all_rows(session)
        engine.dispose()
    return {
        "database": engine.url.get_backend_name(),
        "messages": messages,
        "received by the server": counter.received,
        "sent": report.sent,
        "enqueue per message (ms)": round(enqueued / messages * 1000, 3),
        "delivery (s)": round(seconds, 2),
        "delivery rate (messages/s)": round(report.sent / seconds, 1),
    }
