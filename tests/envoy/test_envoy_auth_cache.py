"""Token cache files and JWT claim decoding."""

from __future__ import annotations

import logging
import os
import stat

import jwt
import pytest

from envoy2mqtt.envoy.auth.cache import TokenCache
from envoy2mqtt.envoy.auth.jwt_info import decode_token
from envoy2mqtt.envoy.errors import EnvoyAuthenticationError
from envoy2mqtt.simulator.tokens import TokenAuthority

OWNER = "owner@example.com"  # the simulator's fake account


def test_store_creates_private_dir_and_file(tmp_path) -> None:
    cache = TokenCache(tmp_path / "a" / "b")
    assert cache.store("123456789012", "tok-1")
    directory = tmp_path / "a" / "b"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    file = directory / "123456789012.jwt"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert cache.load("123456789012") == "tok-1"


def test_store_replaces_atomically_and_leaves_no_temp_files(tmp_path) -> None:
    cache = TokenCache(tmp_path)
    cache.store("1", "old")
    inode_before = (tmp_path / "1.jwt").stat().st_ino
    cache.store("1", "new")
    assert cache.load("1") == "new"
    assert (tmp_path / "1.jwt").stat().st_ino != inode_before  # renamed into place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.jwt"]


def test_existing_directory_mode_is_left_alone(tmp_path) -> None:
    tmp_path.chmod(0o755)
    TokenCache(tmp_path).store("1", "t")
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "1.jwt").stat().st_mode) == 0o600


def test_missing_file_loads_none(tmp_path) -> None:
    assert TokenCache(tmp_path / "nowhere").load("1") is None


def test_write_failure_is_logged_not_raised(tmp_path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        assert TokenCache(blocker / "sub").store("1", "secret-token") is False
    assert "token cache write failed" in caplog.text
    assert "secret-token" not in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_loads_none(tmp_path, caplog) -> None:
    cache = TokenCache(tmp_path)
    cache.store("1", "t")
    (tmp_path / "1.jwt").chmod(0)
    with caplog.at_level(logging.WARNING):
        assert cache.load("1") is None
    assert "token cache unreadable" in caplog.text


@pytest.mark.parametrize("serial", ["", "../etc", "a/b", "x" * 65, "12 34"])
def test_unsafe_serial_is_rejected_and_not_cached(tmp_path, serial) -> None:
    cache = TokenCache(tmp_path / "c")
    with pytest.raises(ValueError, match="invalid serial"):
        cache.path_for(serial)
    assert cache.store(serial, "t") is False
    assert cache.load(serial) is None
    assert not (tmp_path / "c").exists()


def test_decode_owner_token() -> None:
    token = TokenAuthority("122112123456", clock=lambda: 1_700_000_000, lifetime=3600).issue(OWNER)
    info = decode_token(token)
    assert info.expires_at == 1_700_003_600
    assert info.issued_at == 1_700_000_000
    assert info.token_type == "owner"
    assert info.serial == "122112123456"


def test_decode_reads_audience_list_and_missing_claims() -> None:
    token = jwt.encode({"aud": ["999"], "enphaseUser": "installer"}, "k" * 32, algorithm="HS256")
    info = decode_token(token)
    assert (info.serial, info.token_type, info.expires_at) == ("999", "installer", None)


def test_decode_garbage_names_the_source_not_the_token() -> None:
    with pytest.raises(EnvoyAuthenticationError, match="the cached token is not a valid JWT") as e:
        decode_token("abc.def.ghi-secret", "cached token")
    assert "secret" not in str(e.value)
    assert e.value.__cause__ is None
