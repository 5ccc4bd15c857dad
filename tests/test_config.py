"""Settings: the cookie signing key is never a constant and never weak."""

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dhu_core.config import Settings, UnsafeSetting, cookie_key, get_settings


def test_a_random_key_is_generated_once_and_kept_private(tmp_path):
    settings = Settings(dhu_data_dir=tmp_path, dhu_cookie_key=None)
    first = cookie_key(settings)
    assert len(first) >= 32
    assert cookie_key(settings) == first
    mode = stat.S_IMODE((tmp_path / ".cookie_key").stat().st_mode)
    assert mode == 0o600
    assert cookie_key(Settings(dhu_data_dir=tmp_path / "other", dhu_cookie_key=None)) != first


def test_a_key_file_readable_by_others_is_made_private(tmp_path):
    settings = Settings(dhu_data_dir=tmp_path, dhu_cookie_key=None)
    cookie_key(settings)
    (tmp_path / ".cookie_key").chmod(0o644)
    cookie_key(settings)
    assert stat.S_IMODE((tmp_path / ".cookie_key").stat().st_mode) == 0o600


def test_the_environment_key_wins(tmp_path):
    key = secrets.token_urlsafe(48)
    assert cookie_key(Settings(dhu_data_dir=tmp_path, dhu_cookie_key=key)) == key
    assert not (tmp_path / ".cookie_key").exists()


@pytest.mark.parametrize(
    "weak",
    [
        "some_key",
        "random_signature_key",
        "short-key-123",
        " ",
        "a" * 32,
        "changeme" * 4,
        "abcdefghijklmnopqrstuvwxyz012345",
        "0123456789" * 4,
        "Password1234" * 3,
        "kkkkkkkkkkkkkkkkQQQQQQQQQQQQQQQQ-strong",
        "thisismysecretkeyforthecookies",
        "correcthorsebatterystaplecorrecthorse",
    ],
)
def test_weak_keys_are_refused_with_a_clear_message(tmp_path, weak):
    with pytest.raises(UnsafeSetting, match="too weak"):
        cookie_key(Settings(dhu_data_dir=tmp_path, dhu_cookie_key=weak))


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_hex(32),
        lambda: secrets.token_hex(16),
    ],
)
def test_random_keys_are_accepted(tmp_path, make):
    for _ in range(50):
        key = make()
        assert cookie_key(Settings(dhu_data_dir=tmp_path, dhu_cookie_key=key)) == key


def test_the_key_is_judged_once_not_at_every_signed_link(tmp_path, monkeypatch):
    # Each e-mail's unsubscribe link is signed; judging the key every time took ~30 ms each.
    from dhu_core import strength, tokens

    key = secrets.token_urlsafe(48)
    monkeypatch.setenv("DHU_COOKIE_KEY", key)
    get_settings.cache_clear()
    judged = []
    real = strength.guesses_log10_apart
    monkeypatch.setattr(
        strength, "guesses_log10_apart", lambda text: judged.append(text) or real(text)
    )
    try:
        for number in range(20):
            tokens.make("unsubscribe", number, tokens.lifetime_end(1))
    finally:
        get_settings.cache_clear()
    assert judged == [key]


def test_an_app_process_judges_its_key_without_holding_zxcvbns_word_lists(tmp_path):
    """zxcvbn's lists hold ~11 MB in a process: the key is judged in a child process, and
    zxcvbn is imported by a process only when a password is judged there."""
    script = (
        "import sys, app\n"
        "from dhu_core import config\n"
        "for key in sys.argv[1:]:\n"
        "    print(config.key_problem(key))\n"
        "print('zxcvbn' in sys.modules)\n"
    )
    weak, strong = "correcthorsebatterystaplecorrecthorse", secrets.token_urlsafe(48)
    judged = subprocess.run(
        [sys.executable, "-c", script, weak, strong],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "DHU_DATA_DIR": str(tmp_path)},
    )
    assert judged.stdout.splitlines()[-3:] == [
        "words, repeats or patterns that are easy to guess",
        "None",
        "False",
    ]
