"""Writes built from data decoded by the real updaters, and read back by the real client."""

from __future__ import annotations

import json

import msgspec
import pytest
from awesomeversion import AwesomeVersion

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.command_types import SetDryContact, SetGridRelay, UpdateDryContactSettings
from envoy2mqtt.envoy.features import SupportedFeatures as F
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.envoy.updaters.base import ProbeState, Reader
from envoy2mqtt.envoy.updaters.dry_contacts import DryContactsUpdater
from envoy2mqtt.envoy.updaters.tariff import (
    SetChargeFromGrid,
    SetReserveSoc,
    SetStorageMode,
    TariffUpdater,
)
from tests.envoy.test_envoy_commands_support import FIXTURES, Probe, fixtures_with, raw

FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)
ALL_WRITES = Probe(features=F.ENCHARGE | F.ENPOWER | F.TARIFF)

STORAGE_FIXTURES = fixtures_with(
    "admin_lib_tariff", lambda body: bool(body.get("tariff", {}).get("storage_settings"))
)
RELAY_FIXTURES = fixtures_with(
    "ivp_ss_dry_contact_settings", lambda body: bool(body.get("dry_contacts"))
)


async def _decode(fixture: str, updater_class: type) -> EnvoyData:
    """Run one real updater over the fixture's captures (in memory, device mode)."""
    fetcher = _CaptureFetcher(fixture)
    data = EnvoyData()
    state = ProbeState(version=AwesomeVersion("8.0.0"), imeter=True)
    await updater_class(state).update(Reader(fetcher), data)
    return data


class _CaptureFetcher:
    """GETs answered from the capture files (the simulator's store is tested elsewhere)."""

    def __init__(self, fixture: str) -> None:
        self.directory = FIXTURES / fixture

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        assert method == "GET"
        slug = path.lstrip("/").replace("/", "_")
        return Response(status=200, body=(self.directory / slug).read_bytes())


@pytest.mark.parametrize("fixture", STORAGE_FIXTURES)
async def test_unchanged_reserve_write_reproduces_the_capture(fixture: str) -> None:
    data = await _decode(fixture, TariffUpdater)
    assert data.tariff is not None
    assert data.tariff.storage_settings is not None
    original = raw(fixture, "admin_lib_tariff")["tariff"]
    reserve = original["storage_settings"]["reserved_soc"]
    assert reserve == int(reserve)  # true for every capture; the command takes an int
    request = commands.build_request(SetReserveSoc(value=int(reserve)), ALL_WRITES, data)
    expected = json.loads(json.dumps(original))
    expected["storage_settings"]["reserved_soc"] = float(reserve)
    if expected["storage_settings"]["mode"] == "savings-mode":
        expected["storage_settings"]["mode"] = "economy"
    # Byte for byte (compact JSON) apart from the two documented normalisations.
    assert msgspec.json.encode(request.body) == msgspec.json.encode({"tariff": expected})


@pytest.mark.parametrize("fixture", RELAY_FIXTURES)
async def test_unchanged_relay_write_reproduces_the_capture(fixture: str) -> None:
    data = await _decode(fixture, DryContactsUpdater)
    for relay in raw(fixture, "ivp_ss_dry_contact_settings")["dry_contacts"]:
        same = UpdateDryContactSettings(id=relay["id"], changes={"mode": relay["mode"]})
        sent = commands.build_request(same, ALL_WRITES, data).body["dry_contacts"]
        kept = {k: v for k, v in relay.items() if k in sent}
        assert sent == kept
        assert set(relay) - set(sent) <= {
            "safe_state_action",
            "black_start_retries",
            "action_retries",
            "pv_phase_select",
        }


# ------------------------------------------------------------------ the real client, e2e


@pytest.fixture
async def client(envoy_simulator):
    sim = await envoy_simulator("7.3.517")
    envoy = EnvoyClient(
        f"127.0.0.1:{sim.port}", token=sim.issue_token(), budget=FAST, info_budget=FAST
    )
    await envoy.setup()
    await envoy.update()
    try:
        yield envoy
    finally:
        await envoy.close()


async def test_every_write_is_seen_by_the_next_update(client: EnvoyClient) -> None:
    assert client.data.enpower is not None
    assert client.data.enpower.mains_admin_state == "closed"
    assert (await client.execute(SetGridRelay(on_grid=False))).groups == {"ensemble"}
    assert client.data.enpower.mains_admin_state == "open"

    assert client.data.dry_contact_status["NC1"].status == "closed"
    await client.execute(SetDryContact(id="NC1", closed=False))
    assert client.data.dry_contact_status["NC1"].status == "open"

    await client.execute(
        UpdateDryContactSettings(id="NO1", changes={"load_name": "Heat pump", "soc_high": 80})
    )
    relay = client.data.dry_contact_settings["NO1"]
    assert (relay.load_name, relay.soc_high, relay.soc_low) == ("Heat pump", 80.0, 30.0)

    # Consecutive tariff writes each start from the freshly re-read tariff, so none of
    # them undoes the previous one.
    await client.execute(SetReserveSoc(value=25))
    await client.execute(SetChargeFromGrid(enabled=False))
    await client.execute(SetStorageMode(mode="economy"))
    assert client.data.tariff is not None
    storage = client.data.tariff.storage_settings
    assert storage is not None
    assert (storage.reserved_soc, storage.charge_from_grid, storage.mode) == (
        25.0,
        False,
        "economy",
    )
