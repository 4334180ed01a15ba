"""EnvoyClient end to end against the simulator (real sockets on 127.0.0.1)."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from envoy2mqtt.envoy.auth.enlighten import EnlightenClient
from envoy2mqtt.envoy.auth.errors import DigestCredentialsRejected
from envoy2mqtt.envoy.client import EnvoyClient, EnvoySerialMismatch
from envoy2mqtt.envoy.command_types import SetGridRelay
from envoy2mqtt.envoy.errors import (
    EnvoyCommandRejected,
    EnvoyCommunicationError,
    EnvoyFirmwareError,
    EnvoyHTTPStatusError,
    EnvoyMalformedResponse,
    EnvoyTimeoutError,
)
from envoy2mqtt.envoy.export import export_state
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.envoy.updaters.tariff import SetReserveSoc
from envoy2mqtt.simulator.faults import Fault, FaultKind
from tests.plugins.simulator import FIXTURES_DIR, fixture_dirs

FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)


def _client(sim, **kwargs) -> EnvoyClient:
    token = sim.issue_token() if sim.state.uses_tokens else None
    kwargs.setdefault("token", token)
    return EnvoyClient(f"127.0.0.1:{sim.port}", budget=FAST, info_budget=FAST, **kwargs)


def _golden(fixture: str) -> dict:
    return json.loads((FIXTURES_DIR / fixture / "expected.json").read_text())


# Goldens that record a pyenphase failure are about data interpretation (the data side's
# tests); the transport/auth path is proven by every fixture that has data.
DATA_FIXTURES = [f for f in fixture_dirs() if "error" not in _golden(f)]


@pytest.mark.parametrize("fixture", DATA_FIXTURES)
async def test_every_fixture_matches_its_golden(envoy_simulator, fixture) -> None:
    expected = _golden(fixture)
    sim = await envoy_simulator(fixture, mode="golden")
    client = _client(sim)
    try:
        await client.setup()
        result = await client.update()
        assert not result.failed
        assert export_state(client.info, client.probe_result, client.data) == expected
        assert client.auth_mode == ("token" if sim.state.uses_tokens else "digest")
        assert client.transport.scheme == ("https" if sim.tls else "http")
    finally:
        await client.close()


async def test_legacy_envoy_falls_back_from_https_to_http(envoy_simulator) -> None:
    sim = await envoy_simulator("4.10.35", mode="golden")
    client = _client(sim)
    await client.setup()
    await client.close()
    assert client.transport.scheme == "http"
    assert client.info is not None
    assert client.info.firmware == "4.10.35"


async def test_legacy_wrong_password_is_a_clear_error(envoy_simulator) -> None:
    sim = await envoy_simulator("4.10.35", mode="golden")
    client = _client(sim, username="envoy", password="not-the-password")
    with pytest.raises(DigestCredentialsRejected, match="user envoy"):
        await client.setup()
    await client.close()


async def test_legacy_owner_default_password_works(envoy_simulator) -> None:
    sim = await envoy_simulator("4.10.35", mode="golden")
    client = _client(sim, username="envoy")
    await client.setup()
    result = await client.update()
    await client.close()
    assert "production" in result.ok


async def test_configured_serial_must_match(envoy_simulator) -> None:
    sim = await envoy_simulator("8.3.1598_collar")
    client = _client(sim, serial="000000000000")
    with pytest.raises(EnvoySerialMismatch, match="000000000000"):
        await client.setup()
    await client.close()


async def test_info_error_status_is_a_firmware_error(envoy_simulator) -> None:
    sim = await envoy_simulator(tls=False)
    await sim.inject(Fault(FaultKind.ERROR, path="/info", status=500))
    client = EnvoyClient(sim.url, info_budget=FAST)
    with pytest.raises(EnvoyFirmwareError, match="HTTP 500"):
        await client.setup()
    await client.close()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(FaultKind.ERROR, path="/ivp/meters/readings", status=503), EnvoyHTTPStatusError),
        (Fault(FaultKind.GARBAGE, path="/ivp/meters/readings"), EnvoyMalformedResponse),
        (Fault(FaultKind.TIMEOUT, path="/ivp/meters/readings"), EnvoyTimeoutError),
    ],
)
async def test_group_failures_have_the_right_class(envoy_simulator, fault, error) -> None:
    sim = await envoy_simulator("8.3.1598_collar", mode="golden")
    client = EnvoyClient(f"127.0.0.1:{sim.port}", token=sim.issue_token(), budget=FAST, timeout=0.5)
    await client.setup()
    await sim.inject(fault)
    result = await client.update()
    await client.close()
    assert isinstance(result.failed["meters"], error)
    assert "production" in result.ok
    assert "meters" not in result.ok


async def test_reboot_with_new_firmware_reprobes(envoy_simulator) -> None:
    sim = await envoy_simulator("8.3.1598_collar", mode="golden")
    cloud = EnlightenClient(
        f"{sim.url}/login/login.json",
        f"{sim.url}/tokens",
        ssl_context=sim.client_ssl_context(),  # the cloud session verifies certificates
    )
    client = _client(
        sim, token=None, username="owner@example.com", password="owner-password", enlighten=cloud
    )
    await client.setup()
    assert await client.refresh_info() is None
    await sim.reboot(firmware="D8.3.9999")  # also revokes every token
    probed = await client.refresh_info()
    await cloud.close()
    assert probed is not None
    assert probed.info.firmware == "8.3.9999"
    result = await client.update()
    await client.close()
    assert client.info is not None
    assert client.info.firmware == "8.3.9999"
    assert "production" in result.ok


async def test_execute_validates_before_sending(envoy_simulator) -> None:
    sim = await envoy_simulator("7.3.517", mode="golden")
    client = _client(sim)
    await client.setup()
    await client.update()
    before = len(sim.requests.entries())
    earlier_writes = len(sim.requests.writes())  # the update may enable the live-data stream
    with pytest.raises(EnvoyCommandRejected):
        await client.execute(SetReserveSoc(value=150))
    assert len(sim.requests.entries()) == before
    groups = (await client.execute(SetGridRelay(on_grid=False))).groups
    await client.close()
    writes = sim.requests.writes()[earlier_writes:]
    assert [w.path for w in writes] == ["/ivp/ensemble/relay"]
    assert groups
    assert len(sim.requests.entries()) > before + 1  # the groups were re-read


async def test_unprobed_groups_are_neither_ok_nor_failed(envoy_simulator) -> None:
    sim = await envoy_simulator("7.6.175_standard", mode="golden")
    client = _client(sim)
    await client.setup()
    assert "tariff" not in client.probe_result.groups
    result = await client.update(groups=["production", "tariff"])
    await client.close()
    assert result.ok == {"production"}
    assert result.failed == {}


async def test_http_redirect_after_https_failure_keeps_the_https_error(raw_http) -> None:
    seen: list[str] = []

    async def redirect(request: web.BaseRequest) -> web.Response:
        seen.append(request.path)
        return web.Response(status=301, headers={"Location": "https://localhost/info"})

    # plain HTTP: the HTTPS attempt fails at the TLS handshake
    url = await raw_http(redirect)
    client = EnvoyClient(url.removeprefix("http://"), info_budget=FAST)
    with pytest.raises(EnvoyCommunicationError, match="https://"):
        await client.setup()
    await client.close()
    assert seen.count("/info") == FAST.attempts  # retried, not given up on the 301


async def test_a_snapshot_handed_on_keeps_its_values_while_the_client_reads_on(
    envoy_simulator,
) -> None:
    sim = await envoy_simulator("7.3.517", mode="golden")
    client = _client(sim)
    try:
        await client.setup()
        first = (await client.update()).snapshot
        assert first.data.tariff is not None
        assert first.data.tariff.storage_settings is not None
        reserve = first.data.tariff.storage_settings.reserved_soc
        assert reserve != 30.0
        # re-reads the tariff into client.data and hands on the snapshot after that
        newer = (await client.execute(SetReserveSoc(value=30))).snapshot
    finally:
        await client.close()
    assert newer.seq > first.seq
    assert newer.data.tariff is not None
    assert newer.data.tariff.storage_settings is not None
    assert newer.data.tariff.storage_settings.reserved_soc == 30.0
    # The first snapshot is as it was when it was handed on: own data, old tariff.
    assert first.data is not client.data
    assert first.data.tariff.storage_settings.reserved_soc == reserve
    with pytest.raises(AttributeError):
        first.seq = 0  # type: ignore[misc]  # frozen
