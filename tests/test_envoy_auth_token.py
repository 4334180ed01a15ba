"""Token authentication (FW >= 7) through EnvoyClient against a fake Envoy + Enlighten."""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import pytest

from envoy2mqtt.envoy.auth.enlighten import EnlightenClient
from envoy2mqtt.envoy.auth.errors import (
    EnlightenCertificateUntrusted,
    EnlightenCredentialsRejected,
    EnlightenMFARequired,
    EnvoyTokenRejected,
    TokenCredentialsMissing,
    TokenSerialMismatch,
)
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.errors import (
    EnlightenUnreachableError,
    EnvoyAuthenticationError,
    EnvoyError,
)
from envoy2mqtt.envoy.transport import RetryBudget
from tests.plugins.fake_envoy_http import (
    PRODUCTION_PATH,
    Account,
    FakeCollector,
    FakeEnvoy,
    free_port,
    make_token,
    production_page,
)

FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)


def _client(fake: FakeEnvoy, cache: Path | None, **kwargs: object) -> EnvoyClient:
    cloud = kwargs.pop("cloud", f"http://{fake.base}")
    return EnvoyClient(
        f"http://{fake.base}",
        collector_factory=FakeCollector,
        token_cache_dir=cache,
        login_url=f"{cloud}/login/login.json",
        token_url=f"{cloud}/tokens",
        budget=FAST,
        info_budget=FAST,
        **kwargs,  # type: ignore[arg-type]
    )


async def _started(fake_envoy) -> FakeEnvoy:
    fake = await fake_envoy()
    fake.pages[PRODUCTION_PATH] = production_page(1234)
    return fake


async def test_configured_token_is_validated_and_cookie_sent(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    token = fake.issue()
    client = _client(fake, None, token=token)
    await client.setup()
    result = await client.update()
    await client.close()
    assert client.auth_mode == "token"
    assert client.token_type == "owner"
    assert client.token_expires_at is not None
    assert client.token_expires_at > time.time() + 300 * 86400
    assert result.ok == {"production"}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 1234
    data_requests = [r for r in fake.requests if r.path == PRODUCTION_PATH]
    assert all(r.headers["Authorization"] == f"Bearer {token}" for r in data_requests)
    assert all("sessionId=" in r.headers.get("Cookie", "") for r in data_requests)
    assert fake.login_calls == 0


async def test_token_fetched_from_enlighten_and_cached_0600(fake_envoy, tmp_path) -> None:
    fake = await _started(fake_envoy)
    cache = tmp_path / "cache"
    client = _client(fake, cache, username="owner@example.com", password="owner-pw")
    await client.setup()
    await client.close()
    assert (fake.login_calls, fake.token_calls) == (1, 1)
    token_file = cache / f"{fake.serial}.jwt"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert token_file.read_text() in fake.valid_tokens
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


async def test_cached_token_is_reused_on_second_start(fake_envoy, tmp_path) -> None:
    fake = await _started(fake_envoy)
    cache = tmp_path / "cache"
    first = _client(fake, cache, username="owner@example.com", password="owner-pw")
    await first.setup()
    await first.close()
    second = _client(fake, cache, username="owner@example.com", password="owner-pw")
    await second.setup()
    result = await second.update()
    await second.close()
    assert (fake.login_calls, fake.token_calls) == (1, 1)
    assert result.ok == {"production"}


async def test_cache_file_is_never_world_readable_even_with_loose_umask(
    fake_envoy, tmp_path
) -> None:
    fake = await _started(fake_envoy)
    old = os.umask(0)
    try:
        client = _client(fake, tmp_path / "c", username="owner@example.com", password="owner-pw")
        await client.setup()
        await client.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c" / f"{fake.serial}.jwt").stat().st_mode) == 0o600


async def test_token_renewed_ahead_of_expiry(fake_envoy, tmp_path) -> None:
    fake = await _started(fake_envoy)
    now = [time.time()]
    client = _client(
        fake,
        tmp_path / "c",
        username="owner@example.com",
        password="owner-pw",
        refresh_margin=3600.0,
        clock=lambda: now[0],
    )
    await client.setup()
    first_expiry = client.token_expires_at
    assert first_expiry is not None
    await client.update()
    assert fake.token_calls == 1  # far from expiry: nothing renewed
    now[0] = first_expiry - 1800  # inside the margin, still valid
    result = await client.update()
    await client.close()
    assert fake.token_calls == 2
    assert result.ok == {"production"}
    assert client.token_expires_at is not None


async def test_401_mid_run_is_recovered_and_the_poll_not_lost(fake_envoy, tmp_path) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, tmp_path / "c", username="owner@example.com", password="owner-pw")
    await client.setup()
    await client.update()
    fake.revoke()  # firmware update: every token and session forgotten
    fake.pages[PRODUCTION_PATH] = production_page(777)
    result = await client.update()
    await client.close()
    assert result.ok == {"production"}
    assert result.failed == {}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 777
    assert fake.token_calls == 2
    tail = fake.paths()[-5:]
    assert tail.count("/auth/check_jwt") == 2  # re-validate (refused), then the new token


async def test_401_with_token_still_valid_only_revalidates(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    token = fake.issue()
    client = _client(fake, None, token=token)
    await client.setup()
    fake.sessions.clear()
    fake.valid_tokens.discard(token)
    calls = {"n": 0}
    original = fake._check_jwt

    def check_jwt_restoring(request):
        calls["n"] += 1
        fake.valid_tokens.add(token)  # the Envoy came back and accepts the token again
        return original(request)

    fake._check_jwt = check_jwt_restoring  # type: ignore[method-assign]
    result = await client.update()
    await client.close()
    assert result.ok == {"production"}
    assert calls["n"] == 1
    assert fake.login_calls == 0


async def test_401_without_credentials_is_a_clear_auth_error(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, None, token=fake.issue())
    await client.setup()
    fake.revoke()
    with pytest.raises(EnvoyTokenRejected, match="no Enlighten username/password"):
        await client.update()
    await client.close()


async def test_bad_password(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, None, username="owner@example.com", password="wrong-pw")
    with pytest.raises(EnlightenCredentialsRejected, match="rejected the username or password"):
        await client.setup()
    await client.close()


async def test_mfa_account(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    fake.accounts["mfa@example.com"] = Account("mfa-pw", mfa=True)
    client = _client(fake, None, username="mfa@example.com", password="mfa-pw")
    with pytest.raises(EnlightenMFARequired, match="multi-factor"):
        await client.setup()
    await client.close()


async def test_enlighten_unreachable(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    cloud = f"http://127.0.0.1:{free_port()}"
    enlighten = EnlightenClient(f"{cloud}/login/login.json", f"{cloud}/tokens", budget=FAST)
    client = _client(
        fake, None, username="owner@example.com", password="owner-pw", enlighten=enlighten
    )
    with pytest.raises(
        EnlightenUnreachableError,
        match=r"^cannot reach Enlighten at 127\.0\.0\.1:\d+: cannot connect "
        r"\(connection refused\)$",
    ):
        await client.setup()
    await client.close()
    await enlighten.close()


async def test_enlighten_tls_is_verified(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    cloud = await fake_envoy(tls=True)  # self-signed: fine for an Envoy, not for the cloud
    enlighten = EnlightenClient(
        f"https://{cloud.base}/login/login.json", f"https://{cloud.base}/tokens", budget=FAST
    )
    client = _client(
        fake, None, username="owner@example.com", password="owner-pw", enlighten=enlighten
    )
    with pytest.raises(
        EnlightenCertificateUntrusted,
        match=r"^TLS certificate of Enlighten at 127\.0\.0\.1:\d+ not trusted: self-signed "
        r"certificate; set enlighten\.ca_file",
    ):
        await client.setup()
    await client.close()
    await enlighten.close()
    assert cloud.login_calls == 0


async def test_token_for_another_serial(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, None, token=make_token("999999999999"))
    with pytest.raises(TokenSerialMismatch, match="another serial"):
        await client.setup()
    await client.close()
    assert "/auth/check_jwt" not in fake.paths()


async def test_token_firmware_without_token_or_credentials(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, None)
    with pytest.raises(TokenCredentialsMissing, match="configure a token"):
        await client.setup()
    await client.close()


async def test_expired_token_without_credentials(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, None, token=fake.issue(expires_in=-60))
    with pytest.raises(EnvoyTokenRejected, match="expired"):
        await client.setup()
    await client.close()


async def test_not_a_jwt(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    client = _client(fake, None, token="definitely-not-a-jwt")
    with pytest.raises(EnvoyAuthenticationError, match="not a valid JWT") as info:
        await client.setup()
    await client.close()
    assert "definitely-not-a-jwt" not in str(info.value)


async def test_secrets_never_in_logs_or_errors(fake_envoy, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fake = await _started(fake_envoy)
    config_token = fake.issue()
    client = _client(
        fake, tmp_path / "c", token=config_token, username="owner@example.com", password="owner-pw"
    )
    await client.setup()
    fake.revoke()
    await client.update()  # renews through Enlighten
    errors: list[EnvoyError] = []
    fake.accounts.clear()
    fake.revoke()
    try:
        await client.update()
    except EnvoyError as err:
        errors.append(err)
    await client.close()
    secrets = {config_token, "owner-pw", *fake.sessions}
    secrets |= {
        r.headers["Authorization"].split(" ", 1)[1]
        for r in fake.requests
        if "Authorization" in r.headers
    }
    secrets |= {
        r.headers["Cookie"].split("=", 1)[1] for r in fake.requests if "Cookie" in r.headers
    }
    assert errors, "the last update must fail (credentials gone)"
    assert len(secrets) >= 4
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in str(err) and secret not in repr(err) for err in errors)


async def test_installer_token_renewed_within_a_quarter_of_its_life(fake_envoy) -> None:
    fake = await _started(fake_envoy)
    fake.accounts["inst@example.com"] = Account("inst-pw", user_type="installer")
    fake.token_lifetime = 12 * 3600.0
    now = [time.time()]
    client = _client(
        fake, None, username="inst@example.com", password="inst-pw", clock=lambda: now[0]
    )
    await client.setup()  # default margin (days) is capped at 3 h for a 12 h token
    assert client.token_type == "installer"
    expires = client.token_expires_at
    assert expires is not None
    now[0] = expires - 4 * 3600
    await client.update()
    assert fake.token_calls == 1
    now[0] = expires - 2 * 3600
    await client.update()
    await client.close()
    assert fake.token_calls == 2


async def test_expiring_token_without_credentials_warns_once(fake_envoy, caplog) -> None:
    fake = await _started(fake_envoy)
    now = [time.time()]
    client = _client(fake, None, token=fake.issue(expires_in=3600), clock=lambda: now[0])
    await client.setup()
    now[0] += 3000  # within the last quarter of its life
    with caplog.at_level(logging.WARNING):
        await client.update()
        await client.update()
    await client.close()
    assert caplog.text.count("auth token expiry warning") == 1
