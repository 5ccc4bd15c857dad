"""Settings: the cookie signing key is never a constant and never weak."""

import secrets
import stat

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
    real = strength.estimate
    monkeypatch.setattr(strength, "estimate", lambda text: judged.append(text) or real(text))
    try:
        for number in range(20):
            tokens.make("unsubscribe", number, tokens.lifetime_end(1))
    finally:
        get_settings.cache_clear()
    assert judged == [key]
