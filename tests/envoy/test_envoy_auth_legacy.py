"""Legacy digest auth (FW < 7): default passwords, then digest against the simulated 5.0.62."""

from __future__ import annotations

import pytest

from envoy2mqtt.envoy.auth.errors import DigestCredentialsRejected
from envoy2mqtt.envoy.auth.legacy import DigestAuth, installer_password, legacy_credentials
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.errors import EnvoyAuthenticationRequired
from envoy2mqtt.envoy.snapshot import UpdateResult
from envoy2mqtt.envoy.transport import HttpTransport, RetryBudget
from envoy2mqtt.simulator.passwords import installer_password as simulator_installer_password
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import StartSimulator

SERIAL = "122112123456"
LEGACY = "5.0.62"  # its production comes from /api/v1/production
PRODUCTION_PATH = "/api/v1/production"
FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)


def test_installer_password_test_vector() -> None:
    assert installer_password(SERIAL) == "d525d2jh"


@pytest.mark.parametrize("serial", ["123456789012", "000000000001", "999999999999", "1"])
def test_installer_password_agrees_with_the_simulator(serial) -> None:
    password = installer_password(serial)
    assert len(password) == 8
    assert password == simulator_installer_password(serial)


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        (None, None, ("installer", "d525d2jh")),
        ("", "ignored", ("installer", "d525d2jh")),
        ("installer", "ignored", ("installer", "d525d2jh")),
        ("envoy", None, ("envoy", "123456")),
        ("envoy", "", ("envoy", "123456")),
        ("envoy", "custom", ("envoy", "custom")),
        ("someone", "pw", ("someone", "pw")),
        ("someone", None, ("someone", "")),
    ],
)
def test_legacy_credentials(username, password, expected) -> None:
    assert legacy_credentials(SERIAL, username, password) == expected


async def _legacy(envoy_simulator: StartSimulator, watts: int = 321) -> EnvoySimulator:
    """A firmware 5 Envoy (HTTP + Digest) whose ``/api/v1/production`` reports ``watts``."""
    sim = await envoy_simulator(LEGACY)
    sim.document(PRODUCTION_PATH)["wattsNow"] = watts
    return sim


async def _poll(client: EnvoyClient) -> UpdateResult:
    return await client.update(groups=["production"])


@pytest.mark.parametrize(("user", "password"), [(None, None), ("envoy", None)])
async def test_digest_with_right_password(envoy_simulator, user, password) -> None:
    sim = await _legacy(envoy_simulator)
    transport = HttpTransport(sim.url, budget=FAST, auth=DigestAuth(sim.serial, user, password))
    first = await transport.request("GET", PRODUCTION_PATH)
    second = await transport.request("GET", PRODUCTION_PATH)
    await transport.close()
    assert (first.status, second.status) == (200, 200)
    authorised = [e.user for e in sim.requests.entries(path=PRODUCTION_PATH) if e.user]
    assert authorised == [user or "installer"] * 2


async def test_digest_with_wrong_password_is_refused(envoy_simulator) -> None:
    sim = await _legacy(envoy_simulator)
    transport = HttpTransport(sim.url, budget=FAST, auth=DigestAuth(sim.serial, "envoy", "wrong"))
    with pytest.raises(EnvoyAuthenticationRequired):
        await transport.request("GET", PRODUCTION_PATH)
    await transport.close()
    statuses = {e.status for e in sim.requests.entries(path=PRODUCTION_PATH)}
    assert statuses == {401}  # refused by the Envoy's Digest check, not failed elsewhere


async def test_client_uses_digest_and_reads_data(envoy_simulator) -> None:
    sim = await _legacy(envoy_simulator)
    client = EnvoyClient(f"127.0.0.1:{sim.port}", budget=FAST, info_budget=FAST)
    await client.setup()
    result = await _poll(client)
    await client.close()
    assert client.auth_mode == "digest"
    assert client.token_expires_at is None
    assert client.transport.scheme == "http"  # no HTTPS on a legacy Envoy: fell back
    assert result.ok == {"production"}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 321


async def test_client_with_wrong_password_gives_clear_error(envoy_simulator, caplog) -> None:
    sim = await _legacy(envoy_simulator)
    client = EnvoyClient(
        sim.url, username="envoy", password="wrong-secret-pw", budget=FAST, info_budget=FAST
    )
    with pytest.raises(DigestCredentialsRejected, match="digest credentials of user envoy") as info:
        await client.setup()
    await client.close()
    assert "wrong-secret-pw" not in str(info.value)
    assert "wrong-secret-pw" not in caplog.text


async def test_password_change_mid_run_fails_the_poll_clearly(envoy_simulator) -> None:
    sim = await _legacy(envoy_simulator)
    client = EnvoyClient(sim.url, budget=FAST, info_budget=FAST)
    await client.setup()
    assert (await _poll(client)).ok == {"production"}
    sim.digest.set_password("installer", "changed!")
    with pytest.raises(DigestCredentialsRejected):
        await _poll(client)
    await client.close()
