"""Every service function that acts for someone refuses to act for nobody (actor=None)."""

import importlib
import inspect
import pkgutil
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

import dhu_core
from dhu_core import audit, db
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.cli import main
from dhu_core.config import get_settings
from dhu_core.models import AuditEvent
from tests.test_io import GOOD_ROWS, csv_file


class Untouchable:
    """Stands for every other argument: a service must refuse before it looks at them."""

    def __getattr__(self, name: str):
        raise AssertionError(f"looked at .{name} before checking who acts")


def _services_with_an_actor() -> list[tuple[str, Callable, str]]:
    found = []
    for info in pkgutil.iter_modules(dhu_core.__path__):
        module = importlib.import_module(f"dhu_core.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if function in (require_role, audit.record):
                continue
            parameters = inspect.signature(function).parameters
            who = next((p for p in ("actor", "account") if p in parameters), None)
            if who:
                found.append((f"{info.name}.{name}", function, who))
    return found


SERVICES = _services_with_an_actor()


def test_the_services_acting_for_someone_are_found():
    names = {name for name, _, _ in SERVICES}
    assert {"practices.approve_practice", "live.capture_practice", "io.import_practices"} <= names
    assert len(names) > 40


@pytest.mark.parametrize(("name", "function", "who"), SERVICES, ids=[s[0] for s in SERVICES])
def test_a_service_refuses_to_act_for_nobody(engine, name, function, who):
    parameters = inspect.signature(function).parameters
    arguments = {
        p.name: Untouchable() for p in parameters.values() if p.default is inspect.Parameter.empty
    }
    arguments[who] = None
    if function.__name__.startswith(("can_", "may_")):
        # A question whether someone may act: nobody may not.
        with db.read_scope(engine) as session:
            if "session" in parameters:
                arguments["session"] = session
            assert function(**arguments) is False
        return
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        if "session" in parameters:
            arguments["session"] = session
        function(**arguments)


def test_an_audited_change_always_names_who_made_it(engine):
    with pytest.raises(ValueError, match="needs its actor"), db.session_scope(engine) as session:
        audit.record(session, None, "practice.approved", "practice", 1)


def test_the_command_line_acts_as_a_named_system_actor(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        imported = CliRunner().invoke(main, ["import", str(csv_file(tmp_path, GOOD_ROWS[:1]))])
        created = CliRunner().invoke(
            main,
            ["create-user", "ops", "--role", "admin", "--email", "ops@example.org"],
            input="Tartu rain on Tuesday\n",
        )
    finally:
        get_settings.cache_clear()
    assert imported.exit_code == 0 and created.exit_code == 0, imported.output + created.output
    with db.read_scope(engine) as session:
        events = session.exec(
            select(AuditEvent.action, AuditEvent.actor_name, AuditEvent.actor_id).where(
                col(AuditEvent.action).in_(["practice.imported", "account.created"])
            )
        ).all()
    assert sorted(events) == [
        ("account.created", "system:cli", None),
        ("practice.imported", "system:cli", None),
    ]
