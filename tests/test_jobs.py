"""`dhu run-jobs`: one pass of due work, the e-mail last; and the app's background delivery."""

import threading

import pytest
from click.testing import CliRunner

from dhu_core import db, jobs, notifications
from dhu_core.cli import main
from dhu_core.config import UnsafeSetting, get_settings
from dhu_core.notifications import background
from tests.mailserver import mail_server


@pytest.fixture
def configured(engine, monkeypatch):
    """Point the settings at the test database; `monkeypatch.setenv` more before use."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DHU_PUBLIC_URL", "https://dhu.example.org")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_a_pass_runs_every_job_and_sends_what_they_wrote(engine, configured):
    def remind(engine, now) -> str:
        with db.session_scope(engine) as session:
            notifications.enqueue(
                session,
                kind="freshness-reminder",
                to=["owner@example.org"],
                context={
                    "practice_id": 3,
                    "practice_title": "Telemonitoring",
                    "last_confirmed": "1 December 2025",
                },
                dedupe_key="freshness:3",
            )
        return "1 reminder"

    configured.setitem(jobs._registry, "freshness reminders", remind)
    assert list(jobs.registered())[-1] == "deliver e-mail"
    with mail_server() as (url, handler):
        configured.setenv("DHU_SMTP_URL", url)
        get_settings.cache_clear()
        first = CliRunner().invoke(main, ["run-jobs"])
        second = CliRunner().invoke(main, ["run-jobs"])
    assert first.exit_code == 0, first.output
    assert "freshness reminders: 1 reminder" in first.output
    assert "deliver e-mail: 1 sent, 0 to retry, 0 failed" in first.output
    assert "deliver e-mail: 0 sent" in second.output
    assert [m["Subject"] for m in handler.received] == ["Is it still current? Telemonitoring"]


def test_a_failing_job_is_reported_and_the_others_still_run(engine, configured):
    def broken(engine, now) -> str:
        raise RuntimeError("the reminder job broke")

    configured.setitem(jobs._registry, "broken", broken)
    result = CliRunner().invoke(main, ["run-jobs"])
    assert result.exit_code == 1
    assert "broken: failed: RuntimeError: the reminder job broke" in result.output
    assert "deliver e-mail: 0 sent" in result.output
    assert "DHU_SMTP_URL is not set" in result.output


def test_the_app_starts_one_delivery_thread_per_process_and_only_with_a_server(monkeypatch):
    monkeypatch.delenv("DHU_SMTP_URL", raising=False)
    monkeypatch.setenv("DHU_JOBS_IN_APP", "false")
    get_settings.cache_clear()
    started = []
    monkeypatch.setattr(background, "_run", lambda deliver, other_jobs: started.append(1))
    monkeypatch.setattr(background, "_thread", None)
    try:
        assert background.start() is False
        monkeypatch.setenv("DHU_SMTP_URL", "smtp://127.0.0.1:2525")
        get_settings.cache_clear()
        assert background.start() is True
        background._thread.join(5)
        monkeypatch.setattr(background._thread, "is_alive", lambda: True)
        assert background.start() is True
        assert started == [1]
        monkeypatch.setenv("DHU_SMTP_URL", "mail.example.org")
        get_settings.cache_clear()
        with pytest.raises(UnsafeSetting, match="DHU_SMTP_URL must look like"):
            background.start()
    finally:
        get_settings.cache_clear()


def test_the_app_runs_the_other_jobs_without_cron_or_a_mail_server(engine, configured):
    """The embedded default needs nothing else: freshness reminders and archiving run in the
    app's background thread, and no delivery is tried without DHU_SMTP_URL."""
    configured.delenv("DHU_SMTP_URL", raising=False)
    configured.setenv("DHU_JOBS_IN_APP", "true")
    get_settings.cache_clear()
    ran = threading.Event()
    delivered = []
    configured.setitem(jobs._registry, "probe", lambda engine, now: ran.set() or "probed")
    configured.setattr(background.delivery, "deliver_due", lambda *a, **k: delivered.append(1))
    configured.setattr(background, "_thread", None)
    assert background.start() is True
    assert ran.wait(30), "the background thread ran no job"
    assert background._thread.name == "dhu-scheduled-work"
    assert delivered == []
    outcomes = background.run_jobs()
    names = [outcome.name for outcome in outcomes]
    assert "freshness reminders and archiving" in names and "probe" in names
    assert jobs.DELIVERY not in names
    assert all(outcome.ok for outcome in outcomes), outcomes
