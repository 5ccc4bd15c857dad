"""`dhu serve`: the nginx configuration it writes, and what it refuses to start.

The processes themselves, behind nginx, are driven by tests/test_browser_proxy.py.
"""

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhu_core import cli, db, serve
from dhu_core.config import get_settings

NGINX = Path(serve.NGINX)


@pytest.fixture
def settings_from(monkeypatch, tmp_path):
    """Set environment variables for the settings of this process (read again afterwards)."""

    def set_environment(**values: str) -> None:
        monkeypatch.setenv("DHU_DATA_DIR", str(tmp_path))
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_environment
    get_settings.cache_clear()


def test_the_printed_site_file_names_every_process_and_nginx_accepts_it(tmp_path):
    result = CliRunner().invoke(
        cli.main,
        ["serve", "--workers", "3", "--port", "8080", "--worker-port", "9001", "--nginx-config"],
    )
    assert result.exit_code == 0, result.output
    site = result.output
    assert "listen 127.0.0.1:8080;" in site
    for port in (9001, 9002, 9003):
        assert f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" in site
    assert "@" not in site.replace("$", "")
    if not NGINX.exists():
        pytest.skip(f"{NGINX} is missing: apt-get install nginx")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(serve.STANDALONE.format(folder=tmp_path))
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_several_processes_need_a_postgresql_database(settings_from):
    settings_from(DATABASE_URL=None)
    result = CliRunner().invoke(cli.main, ["serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "set DATABASE_URL" in result.output


def test_a_database_behind_the_newest_schema_is_refused(settings_from, tmp_path):
    settings_from(DATABASE_URL=f"sqlite:///{tmp_path / 'old.sqlite3'}")
    result = CliRunner().invoke(cli.main, ["serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "dhu init-db" in result.output


def test_the_processes_trust_the_local_nginx_unless_told_otherwise():
    assert serve.worker_environment({})["DHU_TRUSTED_PROXIES"] == "127.0.0.1"
    given = {"DHU_TRUSTED_PROXIES": "10.0.0.5"}
    assert serve.worker_environment(given)["DHU_TRUSTED_PROXIES"] == "10.0.0.5"


def test_app_processes_hold_glibc_to_few_arenas():
    """Each thread's arena keeps what was freed in it (10-60 MB at 100,000 practices)."""
    assert serve.worker_environment({})["MALLOC_ARENA_MAX"] == "2"
    assert serve.worker_environment({"MALLOC_ARENA_MAX": "4"})["MALLOC_ARENA_MAX"] == "4"


def test_the_connection_pool_of_each_process_is_set_by_the_environment(
    settings_from, postgresql_url
):
    settings_from(DHU_DB_POOL_SIZE="3", DHU_DB_MAX_OVERFLOW="2")
    engine = db._engine.__wrapped__(postgresql_url)
    assert (engine.pool.size(), engine.pool._max_overflow) == (3, 2)
    engine.dispose()
