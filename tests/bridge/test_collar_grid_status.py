"""The collar's "Grid status" follows ``admin_state_str`` (home-assistant/core PR 153766).

``grid_state`` was seen to stay ``on_grid`` while the system was off grid; the admin state
code tells the truth. A collar without a known admin code falls back to ``grid_state``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import msgspec
import pytest

from envoy2mqtt.catalog.discovery import discovery_payloads
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.envoy.client import EnvoyClient
from tests.bridge_helpers import Watcher, bridge_settings, running_bridge
from tests.catalog_helpers import render, snapshot
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator

FIXTURE = "8.3.1598_collar"
COLLAR_SN = "482520020939"
INVENTORY = "ivp_ensemble_inventory"


def _grid_status(admin: str | None, grid_state: str = "on_grid") -> tuple[str, str]:
    """(state payload's grid_status, what HA renders for the Grid status entity)."""
    snap = snapshot(FIXTURE)
    assert snap.data.collar is not None
    collar = msgspec.structs.replace(snap.data.collar, admin_state_str=admin, grid_state=grid_state)
    snap = dataclasses.replace(snap, data=msgspec.structs.replace(snap.data, collar=collar))
    payload = state_payloads(snap)["collar"]
    device = next(
        c for t, c in discovery_payloads(snap).items() if t.endswith(f"_collar_{COLLAR_SN}/config")
    )
    config = device["cmps"]["grid_state"]
    assert config["state_topic"].endswith("/collar")
    return payload["grid_status"], render(config["value_template"], payload)


@pytest.mark.parametrize(
    ("admin", "grid_state", "expected"),
    [
        ("ENCMN_MDE_OFF_GRID", "on_grid", "off_grid"),  # the field report: grid_state lags
        ("ENCMN_MDE_ON_GRID", "off_grid", "on_grid"),
        ("ENCMN_MDE_SOMETHING_NEW", "synchronizing", "synchronizing"),  # unknown: fall back
        (None, "off_grid", "off_grid"),  # firmware without admin_state_str: as before
    ],
)
def test_grid_status_prefers_the_admin_state(
    admin: str | None, grid_state: str, expected: str
) -> None:
    assert _grid_status(admin, grid_state) == (expected, expected)


def test_raw_fields_stay_in_the_payload() -> None:
    payload = state_payloads(snapshot(FIXTURE))["collar"]
    assert payload["grid_state"] == "on_grid"
    assert payload["admin_state_str"] == "ENCMN_MDE_ON_GRID"
    assert payload["grid_status"] == "on_grid"


def _collar_doc(sim: Any) -> dict[str, Any]:
    doc = sim.state.doc(INVENTORY)
    return next(g for g in doc if g["type"] == "COLLAR")["devices"][0]  # type: ignore[no-any-return]


async def test_collar_without_admin_state_str_keeps_its_device(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator(FIXTURE)
    del _collar_doc(sim)["admin_state_str"]
    _collar_doc(sim)["grid_state"] = "off_grid"
    client = EnvoyClient(sim.url, token=sim.issue_token())
    try:
        await client.setup()
        await client.update()
    finally:
        await client.close()
    assert client.data.collar is not None
    assert client.data.collar.admin_state_str is None
    assert client.data.collar.grid_state == "off_grid"


async def test_bridge_publishes_the_admin_state_as_grid_status(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, watcher: Watcher, tmp_path: Path
) -> None:
    sim = await envoy_simulator(FIXTURE)
    topic = f"envoy2mqtt/{sim.serial}/collar"
    async with running_bridge(bridge_settings(mosquitto.port, [sim], tmp_path)):
        await watcher.wait(lambda w: w.json(topic).get("grid_status") == "on_grid")
        # the grid goes away: only the admin state says so
        _collar_doc(sim)["admin_state_str"] = "ENCMN_MDE_OFF_GRID"
        await watcher.wait(lambda w: w.json(topic).get("grid_status") == "off_grid")
        assert watcher.json(topic)["grid_state"] == "on_grid"
