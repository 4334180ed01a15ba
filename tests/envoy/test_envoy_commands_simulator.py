"""Commands end to end: real transport -> simulated Envoy; the write shows in a later GET."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.command_types import SetDryContact, SetGridRelay, UpdateDryContactSettings
from envoy2mqtt.envoy.errors import EnvoyCommandRejected, EnvoyFeatureNotAvailable
from envoy2mqtt.envoy.transport import HttpTransport
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc, SetStorageMode
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.envoy.test_envoy_commands_support import BearerAuth, load_data, load_probe

FIXTURE = "7.3.517"
OPT_FIXTURE = "8.3.5169_with_generator"  # FW 8.3: tariff has opt_schedules

Reader = Callable[[str], Awaitable[Any]]


@pytest.fixture
async def envoy(envoy_simulator) -> AsyncIterator[tuple[EnvoySimulator, HttpTransport]]:
    sim = await envoy_simulator(FIXTURE)
    transport = HttpTransport(sim.url, auth=BearerAuth(sim.issue_token()))
    try:
        yield sim, transport
    finally:
        await transport.close()


async def _get(transport: HttpTransport, path: str) -> Any:
    response = await transport.request("GET", path)
    assert response.status == 200, path
    return json.loads(response.body)


def _by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in doc["dry_contacts"]}


def _enpower(inventory: list[dict[str, Any]]) -> dict[str, Any]:
    [group] = [g for g in inventory if g["type"] == "ENPOWER"]
    return group["devices"][0]


@pytest.mark.parametrize(("on_grid", "state"), [(False, "open"), (True, "closed")])
async def test_grid_relay_is_visible_in_inventory(envoy, on_grid: bool, state: str) -> None:
    sim, transport = envoy
    groups = await commands.execute(
        transport, SetGridRelay(on_grid=on_grid), load_probe(FIXTURE), load_data(FIXTURE)
    )
    assert groups == {"ensemble"}
    enpower = _enpower(await _get(transport, "/ivp/ensemble/inventory"))
    assert enpower["mains_admin_state"] == state
    [write] = sim.requests.writes()
    assert (write.method, write.path, write.body) == (
        "POST",
        "/ivp/ensemble/relay",
        {"mains_admin_state": state},
    )


async def test_dry_contact_state_is_visible_in_status(envoy) -> None:
    _, transport = envoy
    before = _by_id(await _get(transport, "/ivp/ensemble/dry_contacts"))
    assert before["NO2"]["status"] == "closed"
    await commands.execute(
        transport, SetDryContact(id="NO2", closed=False), load_probe(FIXTURE), load_data(FIXTURE)
    )
    after = _by_id(await _get(transport, "/ivp/ensemble/dry_contacts"))
    assert after["NO2"]["status"] == "open"
    assert {k: v for k, v in after.items() if k != "NO2"} == {
        k: v for k, v in before.items() if k != "NO2"
    }


async def test_dry_contact_settings_are_visible_and_complete(envoy) -> None:
    _, transport = envoy
    before = _by_id(await _get(transport, "/ivp/ss/dry_contact_settings"))
    changes = {"generator_action": "apply", "mode": "soc", "soc_low": 15, "override": False}
    groups = await commands.execute(
        transport,
        UpdateDryContactSettings(id="NC2", changes=changes),
        load_probe(FIXTURE),
        load_data(FIXTURE),
    )
    assert groups == {"dry_contacts"}
    after = _by_id(await _get(transport, "/ivp/ss/dry_contact_settings"))
    expected = copy.deepcopy(before["NC2"])
    expected.update(gen_action="apply", mode="soc", soc_low=15.0, override="false")
    assert after["NC2"] == expected
    assert list(after["NC2"]) == list(before["NC2"])  # the whole relay object, same shape
    assert {k: after[k] for k in ("NC1", "NO1", "NO2")} == {
        k: before[k] for k in ("NC1", "NO1", "NO2")
    }


@pytest.mark.parametrize(
    ("command", "changed"),
    [
        (SetStorageMode(mode="self-consumption"), {"mode": "self-consumption"}),
        (SetReserveSoc(value=30), {"reserved_soc": 30.0}),
        (SetChargeFromGrid(enabled=False), {"charge_from_grid": False}),
    ],
)
async def test_tariff_writes_are_visible_and_keep_the_rest(envoy, command, changed) -> None:
    _, transport = envoy
    before = await _get(transport, "/admin/lib/tariff")
    groups = await commands.execute(transport, command, load_probe(FIXTURE), load_data(FIXTURE))
    assert groups == {"tariff"}
    after = await _get(transport, "/admin/lib/tariff")
    expected = copy.deepcopy(before)
    expected["tariff"]["storage_settings"].update(changed)
    assert after == expected  # including the device-computed schedule block


async def test_mode_change_on_fw8_turns_optimised_schedules_off(envoy_simulator) -> None:
    sim = await envoy_simulator(OPT_FIXTURE)
    transport = HttpTransport(sim.url, auth=BearerAuth(sim.issue_token()))
    try:
        data = load_data(OPT_FIXTURE)
        assert data.tariff is not None
        assert data.tariff.storage_settings is not None
        assert data.tariff.storage_settings.opt_schedules is not None
        probe = load_probe(OPT_FIXTURE)
        await commands.execute(transport, SetStorageMode(mode="backup"), probe, data)
        storage = (await _get(transport, "/admin/lib/tariff"))["tariff"]["storage_settings"]
    finally:
        await transport.close()
    assert storage["mode"] == "backup"
    assert storage["opt_schedules"] is False


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (SetReserveSoc(value=101), EnvoyCommandRejected),
        (SetDryContact(id="NC9", closed=True), EnvoyCommandRejected),
        (UpdateDryContactSettings(id="NC1", changes={"soc_low": 90}), EnvoyCommandRejected),
        (SetStorageMode(mode="savings-mode"), EnvoyCommandRejected),
    ],
)
async def test_rejected_commands_never_reach_the_simulator(envoy, command, error) -> None:
    sim, transport = envoy
    with pytest.raises(error):
        await commands.execute(transport, command, load_probe(FIXTURE), load_data(FIXTURE))
    assert len(sim.requests) == 0


async def test_missing_feature_never_reaches_the_simulator(envoy_simulator) -> None:
    sim = await envoy_simulator("7.6.175_with_cts")  # tariff, but no batteries or Enpower
    transport = HttpTransport(sim.url, auth=BearerAuth(sim.issue_token()))
    probe, data = load_probe("7.6.175_with_cts"), load_data("7.6.175_with_cts")
    try:
        for command in (SetGridRelay(on_grid=True), SetReserveSoc(value=20)):
            with pytest.raises(EnvoyFeatureNotAvailable):
                await commands.execute(transport, command, probe, data)
    finally:
        await transport.close()
    assert len(sim.requests) == 0
