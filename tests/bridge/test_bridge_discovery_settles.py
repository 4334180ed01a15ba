"""On a fresh start no entity is announced on one device and then moved to another.

Home Assistant treats a component that leaves a device config as removed (the entity and
the user's name and area for it are gone) and the same unique id on another device as a
new entity. The storage controls belong on the Enpower when there is one; its data arrives
with another group than the tariff, so the bridge waits for it instead of announcing them
on the gateway first.
"""

from __future__ import annotations

import dataclasses
import json

import msgspec
import pytest

from envoy2mqtt.catalog.discovery import discovery_payloads
from envoy2mqtt.catalog.registry import entities
from envoy2mqtt.catalog.spec import DeviceKind
from tests.bridge_helpers import Watcher
from tests.catalog_helpers import snapshot
from tests.plugins.stack import BridgeStack

ENPOWER_SYSTEMS = ["7.3.517", "8.3.5169_with_generator"]
STORAGE_CONTROLS = {"charge_from_grid", "storage_mode", "reserve_soc"}  # control names


def _storage_devices(name: str, *, enpower_known: bool) -> set[DeviceKind]:
    snap = snapshot(name)
    if not enpower_known:
        snap = dataclasses.replace(snap, data=msgspec.structs.replace(snap.data, enpower=None))
    return {
        e.device
        for e in entities(snap)
        if e.spec.control and e.spec.control.name in STORAGE_CONTROLS
    }


@pytest.mark.parametrize("name", ENPOWER_SYSTEMS)
def test_storage_controls_wait_for_the_enpower_they_belong_to(name: str) -> None:
    assert _storage_devices(name, enpower_known=True) == {DeviceKind.ENPOWER}
    assert _storage_devices(name, enpower_known=False) == set()


def test_without_an_enpower_the_storage_controls_are_on_the_gateway() -> None:
    assert _storage_devices("8.2.4382_ACB", enpower_known=True) in ({DeviceKind.GATEWAY}, set())
    assert _storage_devices("7.6.185_with_cts_and_battery_3t", enpower_known=True) == {
        DeviceKind.GATEWAY
    }


def _device_of_each_component(log: list[tuple[str, bytes, bool]]) -> dict[str, set[str]]:
    homes: dict[str, set[str]] = {}
    for topic, payload, _ in log:
        if topic.startswith("homeassistant/device/") and payload:
            for cmp in json.loads(payload)["cmps"].values():
                assert "unique_id" in cmp, f"{topic}: a component was removed: {cmp}"
                homes.setdefault(cmp["unique_id"], set()).add(topic)
    return homes


@pytest.mark.parametrize("name", ENPOWER_SYSTEMS)
async def test_a_fresh_start_announces_every_entity_on_its_final_device_only(
    bridge_stack: BridgeStack, watcher: Watcher, name: str
) -> None:
    sim = await bridge_stack.sim(name)
    final = {t: set(c["cmps"]) for t, c in discovery_payloads(snapshot(name)).items()}
    async with bridge_stack.bridge(sim):
        await watcher.wait(
            lambda w: all(
                set(json.loads(w.latest.get(t) or b'{"cmps": {}}')["cmps"]) >= cmps
                for t, cmps in final.items()
            ),
            60,
        )
    moved = {uid: t for uid, t in _device_of_each_component(watcher.log).items() if len(t) > 1}
    assert moved == {}
