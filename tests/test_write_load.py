"""Many writers at once: 20 processes × 20 transactions that read before they write."""

import multiprocessing

import pytest

from dhu_core import db, practices
from dhu_core.models import Organisation, Practice, PracticeDraft, User
from tests.people import account
from tests.race import plain_main

WRITERS = 20
SAVES = 20


def _writer(url: str, actor_id: int, barrier, results) -> None:
    """Save a new draft, then save it again and again; report the errors met by class name."""
    engine = db.get_engine(url)
    errors, practice_id = [], None
    barrier.wait(timeout=120)
    for number in range(SAVES):
        try:
            with db.session_scope(engine) as session:
                practice_id = practices.save_draft(
                    session=session,
                    data=PracticeDraft(title=f"Draft saved {number + 1} times"),
                    actor=session.get(User, actor_id),
                    practice_id=practice_id,
                ).id
        except Exception as error:  # noqa: BLE001 (the test counts every failure)
            errors.append(type(error).__name__)
    results.put(errors)
    engine.dispose()


@pytest.mark.timeout(600)
def test_twenty_writers_saving_twenty_times_meet_no_error(engine):
    with db.session_scope(engine) as session:
        org = Organisation(name="Busy clinic", country="EE")
        session.add(org)
        session.flush()
        owners = [account(session, f"writer{n}", "owner", org.id).id for n in range(WRITERS)]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WRITERS), context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    writers = [
        context.Process(target=_writer, args=(url, owner, barrier, results)) for owner in owners
    ]
    with plain_main():
        for writer in writers:
            writer.start()
    errors = [error for _ in writers for error in results.get(timeout=540)]
    for writer in writers:
        writer.join(timeout=60)
    with db.session_scope(engine) as session:
        drafts = session.exec(
            Practice.__table__.select().where(Practice.title == f"Draft saved {SAVES} times")
        ).all()
    assert errors == [], f"{len(errors)} of {WRITERS * SAVES} writes failed: {set(errors)}"
    assert len(drafts) == WRITERS
