"""Token authentication (FW >= 7) through EnvoyClient against the simulator + its Enlighten.

The simulator serves the Envoy and the fake Enlighten over plain HTTP on one port (the
bridge tests show the cloud's own TLS rules); ``seen_headers`` records what reached it.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import pytest
from aiohttp import web

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
from envoy2mqtt.envoy.snapshot import UpdateResult
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.simulator import handler
from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.tokens import TokenAuthority
from tests.plugins.mosquitto import free_port
from tests.plugins.simulator import StartSimulator

FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)
PRODUCTION = "/production.json"
OWNER, PASSWORD = "owner@example.com", "owner-password"  # the simulator's accounts
Seen = list[tuple[str, dict[str, str]]]


@pytest.fixture
def seen_headers(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """(path, headers) of every request any simulator of this test receives."""
    seen: Seen = []
    answer = handler.handle

    async def recording(sim: EnvoySimulator, request: web.BaseRequest) -> web.StreamResponse:
        seen.append((request.path, dict(request.headers)))
        return await answer(sim, request)

    monkeypatch.setattr(handler, "handle", recording)
    return seen


def _client(sim: EnvoySimulator, cache: Path | None, **kwargs: object) -> EnvoyClient:
    cloud = kwargs.pop("cloud", sim.url)
    return EnvoyClient(
        sim.url,
        token_cache_dir=cache,
        login_url=f"{cloud}/login/login.json",
        token_url=f"{cloud}/tokens",
        budget=FAST,
        info_budget=FAST,
        **kwargs,  # type: ignore[arg-type]
    )


async def _started(envoy_simulator: StartSimulator, **options: object) -> EnvoySimulator:
    """A token-firmware Envoy (and its Enlighten) over plain HTTP."""
    return await envoy_simulator(tls=False, **options)


async def _poll(client: EnvoyClient) -> UpdateResult:
    return await client.update(groups=["production"])


async def _owner_start(sim: EnvoySimulator, cache: Path) -> None:
    """One start with the owner's login: setup (login and token, unless cached), close."""
    client = _client(sim, cache, username=OWNER, password=PASSWORD)
    await client.setup()
    await client.close()


def _set_watts(sim: EnvoySimulator, watts: int) -> None:
    for entry in sim.document(f"{PRODUCTION}?details=1")["production"]:
        entry["wNow"] = watts


def _paths(sim: EnvoySimulator) -> list[str]:
    return [e.path for e in sim.requests.entries()]


async def test_configured_token_is_validated_and_cookie_sent(
    envoy_simulator, seen_headers: Seen
) -> None:
    sim = await _started(envoy_simulator)
    _set_watts(sim, 1234)
    token = sim.issue_token()
    client = _client(sim, None, token=token)
    await client.setup()
    result = await _poll(client)
    await client.close()
    assert client.auth_mode == "token"
    assert client.token_type == "owner"
    assert client.token_expires_at is not None
    assert client.token_expires_at > time.time() + 300 * 86400
    assert result.ok == {"production"}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 1234
    data_requests = [headers for path, headers in seen_headers if path == PRODUCTION]
    assert data_requests
    assert all(h["Authorization"] == f"Bearer {token}" for h in data_requests)
    assert all("sessionId=" in h.get("Cookie", "") for h in data_requests)
    assert sim.enlighten.login_calls == 0


async def test_token_fetched_from_enlighten_and_cached_0600(envoy_simulator, tmp_path) -> None:
    sim = await _started(envoy_simulator)
    cache = tmp_path / "cache"
    await _owner_start(sim, cache)
    assert (sim.enlighten.login_calls, sim.enlighten.token_calls) == (1, 1)
    token_file = cache / f"{sim.serial}.jwt"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert sim.tokens.validate(token_file.read_text())
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


async def test_cached_token_is_reused_on_second_start(envoy_simulator, tmp_path) -> None:
    sim = await _started(envoy_simulator)
    cache = tmp_path / "cache"
    await _owner_start(sim, cache)
    second = _client(sim, cache, username=OWNER, password=PASSWORD)
    await second.setup()
    result = await _poll(second)
    await second.close()
    assert (sim.enlighten.login_calls, sim.enlighten.token_calls) == (1, 1)
    assert result.ok == {"production"}


async def test_cache_file_is_never_world_readable_even_with_loose_umask(
    envoy_simulator, tmp_path
) -> None:
    sim = await _started(envoy_simulator)
    old = os.umask(0)
    try:
        await _owner_start(sim, tmp_path / "c")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c" / f"{sim.serial}.jwt").stat().st_mode) == 0o600


async def test_token_renewed_ahead_of_expiry(envoy_simulator, tmp_path) -> None:
    sim = await _started(envoy_simulator)
    now = [time.time()]
    client = _client(
        sim,
        tmp_path / "c",
        username=OWNER,
        password=PASSWORD,
        refresh_margin=3600.0,
        clock=lambda: now[0],
    )
    await client.setup()
    first_expiry = client.token_expires_at
    assert first_expiry is not None
    await _poll(client)
    assert sim.enlighten.token_calls == 1  # far from expiry: nothing renewed
    now[0] = first_expiry - 1800  # inside the margin, still valid
    result = await _poll(client)
    await client.close()
    assert sim.enlighten.token_calls == 2
    assert result.ok == {"production"}
    assert client.token_expires_at is not None


async def test_401_mid_run_is_recovered_and_the_poll_not_lost(envoy_simulator, tmp_path) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, tmp_path / "c", username=OWNER, password=PASSWORD)
    await client.setup()
    await _poll(client)
    sim.revoke_tokens()  # firmware update: every token and session forgotten
    _set_watts(sim, 777)
    result = await _poll(client)
    await client.close()
    assert result.ok == {"production"}
    assert result.failed == {}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 777
    assert sim.enlighten.token_calls == 2
    tail = _paths(sim)[-5:]
    assert tail.count("/auth/check_jwt") == 2  # re-validate (refused), then the new token


@pytest.mark.parametrize("credentials", [{}, {"username": OWNER, "password": PASSWORD}])
async def test_401_with_token_still_valid_only_revalidates(envoy_simulator, credentials) -> None:
    sim = await _started(envoy_simulator)
    _set_watts(sim, 1234)
    client = _client(sim, None, token=sim.issue_token(), **credentials)
    await client.setup()
    sim.end_sessions()  # the Envoy refuses the session; the token itself stays good
    sim.requests.clear()
    result = await _poll(client)
    await client.close()
    assert result.ok == {"production"}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 1234
    statuses = [(e.path, e.status) for e in sim.requests.entries()]
    assert statuses == [(PRODUCTION, 401), ("/auth/check_jwt", 200), (PRODUCTION, 200)]
    assert sim.enlighten.cloud_calls == 0  # re-validated, no login and no new token


async def test_401_without_credentials_is_a_clear_auth_error(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, None, token=sim.issue_token())
    await client.setup()
    sim.revoke_tokens()
    with pytest.raises(EnvoyTokenRejected, match="no Enlighten username/password"):
        await _poll(client)
    await client.close()


async def test_bad_password(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, None, username=OWNER, password="wrong-pw")
    with pytest.raises(EnlightenCredentialsRejected, match="rejected the username or password"):
        await client.setup()
    await client.close()


async def test_mfa_account(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, None, username="mfa@example.com", password="mfa-password")
    with pytest.raises(EnlightenMFARequired, match="multi-factor"):
        await client.setup()
    await client.close()


async def _owner_setup_fails(
    sim: EnvoySimulator, cloud: str, error: type[EnvoyError], match: str
) -> None:
    """Setup with the owner's login sent to the Enlighten at ``cloud`` raises ``error``."""
    enlighten = EnlightenClient(f"{cloud}/login/login.json", f"{cloud}/tokens", budget=FAST)
    client = _client(sim, None, username=OWNER, password=PASSWORD, enlighten=enlighten)
    with pytest.raises(error, match=match):
        await client.setup()
    await client.close()
    await enlighten.close()


async def test_enlighten_unreachable(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    await _owner_setup_fails(
        sim,
        f"http://127.0.0.1:{free_port()}",
        EnlightenUnreachableError,
        r"^cannot reach Enlighten at 127\.0\.0\.1:\d+: cannot connect \(connection refused\)$",
    )


async def test_enlighten_tls_is_verified(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    cloud = await envoy_simulator()  # self-signed HTTPS: fine for an Envoy, not for the cloud
    await _owner_setup_fails(
        sim,
        cloud.url,
        EnlightenCertificateUntrusted,
        r"^TLS certificate of Enlighten at 127\.0\.0\.1:\d+ not trusted: self-signed "
        r"certificate; set enlighten\.ca_file",
    )
    assert cloud.enlighten.login_calls == 0


async def test_token_for_another_serial(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, None, token=TokenAuthority("999999999999").issue(OWNER))
    with pytest.raises(TokenSerialMismatch, match="another serial"):
        await client.setup()
    await client.close()
    assert "/auth/check_jwt" not in _paths(sim)


async def test_token_firmware_without_token_or_credentials(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, None)
    with pytest.raises(TokenCredentialsMissing, match="configure a token"):
        await client.setup()
    await client.close()


async def test_expired_token_without_credentials(envoy_simulator) -> None:
    sim = await _started(envoy_simulator, token_lifetime=-60)
    client = _client(sim, None, token=sim.issue_token())
    with pytest.raises(EnvoyTokenRejected, match="expired"):
        await client.setup()
    await client.close()


async def test_not_a_jwt(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)
    client = _client(sim, None, token="definitely-not-a-jwt")
    with pytest.raises(EnvoyAuthenticationError, match="not a valid JWT") as info:
        await client.setup()
    await client.close()
    assert "definitely-not-a-jwt" not in str(info.value)


async def test_secrets_never_in_logs_or_errors(
    envoy_simulator, tmp_path, caplog, seen_headers: Seen
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = await _started(envoy_simulator)
    config_token = sim.issue_token()
    client = _client(sim, tmp_path / "c", token=config_token, username=OWNER, password=PASSWORD)
    await client.setup()
    sim.revoke_tokens()
    await _poll(client)  # renews through Enlighten
    errors: list[EnvoyError] = []
    sim.enlighten.accounts.clear()
    sim.revoke_tokens()
    try:
        await _poll(client)
    except EnvoyError as err:
        errors.append(err)
    await client.close()
    secrets = {config_token, PASSWORD}
    secrets |= {
        h["Authorization"].split(" ", 1)[1] for _, h in seen_headers if "Authorization" in h
    }
    secrets |= {h["Cookie"].split("=", 1)[1] for _, h in seen_headers if "Cookie" in h}
    assert errors, "the last update must fail (credentials gone)"
    assert len(secrets) >= 4
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in str(err) and secret not in repr(err) for err in errors)


async def test_installer_token_renewed_within_a_quarter_of_its_life(envoy_simulator) -> None:
    sim = await _started(envoy_simulator)  # installer tokens live 12 h
    now = [time.time()]
    client = _client(
        sim,
        None,
        username="installer@example.com",
        password="installer-password",
        clock=lambda: now[0],
    )
    await client.setup()  # default margin (days) is capped at 3 h for a 12 h token
    assert client.token_type == "installer"
    expires = client.token_expires_at
    assert expires is not None
    now[0] = expires - 4 * 3600
    await _poll(client)
    assert sim.enlighten.token_calls == 1
    now[0] = expires - 2 * 3600
    await _poll(client)
    await client.close()
    assert sim.enlighten.token_calls == 2


async def test_expiring_token_without_credentials_warns_once(envoy_simulator, caplog) -> None:
    sim = await _started(envoy_simulator, token_lifetime=3600)
    now = [time.time()]
    client = _client(sim, None, token=sim.issue_token(), clock=lambda: now[0])
    await client.setup()
    now[0] += 3000  # within the last quarter of its life
    with caplog.at_level(logging.WARNING):
        await _poll(client)
        await _poll(client)
    await client.close()
    assert caplog.text.count("auth token expiry warning") == 1
