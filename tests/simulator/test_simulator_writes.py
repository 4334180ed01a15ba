"""Writes change what later GETs return, are logged, and malformed bodies are rejected."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from envoy2mqtt.simulator.faults import Fault, FaultKind
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import FakeClock, StartSimulator, sim_session


async def _call(
    sim: EnvoySimulator, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {sim.issue_token()}"}
    async with (
        sim_session(sim) as session,
        session.request(method, f"{sim.url}{path}", json=body, data=raw, headers=headers) as resp,
    ):
        try:
            return resp.status, await resp.json(content_type=None)
        except (ValueError, aiohttp.ContentTypeError):
            return resp.status, await resp.text()


def _enpower(inventory: Any) -> dict[str, Any]:
    group = next(g for g in inventory if g["type"] == "ENPOWER")
    device: dict[str, Any] = group["devices"][0]
    return device


async def test_grid_relay_write_shows_in_inventory(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    status, _ = await _call(sim, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
    assert status == 200
    _, inventory = await _call(sim, "GET", "/ivp/ensemble/inventory")
    assert _enpower(inventory)["mains_admin_state"] == "open"
    assert _enpower(inventory)["mains_oper_state"] == "open"
    writes = sim.requests.writes()
    assert [(w.method, w.path, w.body, w.status) for w in writes] == [
        ("POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}, 200)
    ]


async def test_dry_contact_switch_and_settings(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    body = {"dry_contacts": {"id": "NC2", "status": "open"}}
    assert (await _call(sim, "POST", "/ivp/ensemble/dry_contacts", body))[0] == 200
    _, doc = await _call(sim, "GET", "/ivp/ensemble/dry_contacts")
    assert {c["id"]: c["status"] for c in doc["dry_contacts"]}["NC2"] == "open"

    _, settings = await _call(sim, "GET", "/ivp/ss/dry_contact_settings")
    relay = dict(settings["dry_contacts"][0], load_name="Pool pump", soc_low=25.0)
    status, _ = await _call(sim, "POST", "/ivp/ss/dry_contact_settings", {"dry_contacts": relay})
    assert status == 200
    _, after = await _call(sim, "GET", "/ivp/ss/dry_contact_settings")
    assert after["dry_contacts"][0] == relay
    assert after["dry_contacts"][1] == settings["dry_contacts"][1]


async def test_tariff_put_replaces_tariff_keeps_schedule(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    _, before = await _call(sim, "GET", "/admin/lib/tariff")
    tariff = before["tariff"]
    tariff["storage_settings"] = dict(tariff["storage_settings"], mode="backup", reserved_soc=40.0)
    assert (await _call(sim, "PUT", "/admin/lib/tariff", {"tariff": tariff}))[0] == 200
    _, after = await _call(sim, "GET", "/admin/lib/tariff")
    assert after["tariff"]["storage_settings"]["mode"] == "backup"
    assert after["tariff"]["storage_settings"]["reserved_soc"] == 40.0
    assert after["schedule"] == before["schedule"]


async def test_generator_writes(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    assert (await _call(sim, "POST", "/ivp/ss/gen_mode", {"gen_cmd": "auto"}))[0] == 200
    assert (await _call(sim, "GET", "/ivp/ss/gen_mode"))[1]["gen_cmd"] == "auto"
    _, config = await _call(sim, "GET", "/ivp/ss/gen_config")
    config["charge_from_generator"] = False
    assert (await _call(sim, "POST", "/ivp/ss/gen_config", config))[0] == 200
    assert (await _call(sim, "GET", "/ivp/ss/gen_config"))[1]["charge_from_generator"] is False
    _, schedule = await _call(sim, "GET", "/ivp/ss/gen_schedule")
    schedule["exercise_config"]["day"] = "Tue"
    assert (await _call(sim, "POST", "/ivp/ss/gen_schedule", schedule))[0] == 200
    assert (await _call(sim, "GET", "/ivp/ss/gen_schedule"))[1]["exercise_config"]["day"] == "Tue"


async def test_malformed_writes_are_400_and_change_nothing(
    sim_token_envoy: EnvoySimulator,
) -> None:
    sim = sim_token_envoy
    _, before_inv = await _call(sim, "GET", "/ivp/ensemble/inventory")
    _, before_tariff = await _call(sim, "GET", "/admin/lib/tariff")
    bad = [
        ("POST", "/ivp/ensemble/relay", {"mains_admin_state": "ajar"}),
        ("POST", "/ivp/ensemble/relay", ["open"]),
        ("POST", "/ivp/ensemble/dry_contacts", {"dry_contacts": {"id": "XX9", "status": "open"}}),
        ("POST", "/ivp/ensemble/dry_contacts", {"dry_contacts": [{"id": "NC1"}]}),
        ("POST", "/ivp/ss/dry_contact_settings", {"dry_contacts": {"id": "NC1"}}),
        ("PUT", "/admin/lib/tariff", {"tariff": "cheap"}),
        ("PUT", "/admin/lib/tariff", {"tariff": {"storage_settings": {"mode": "turbo"}}}),
        ("PUT", "/admin/lib/tariff", {"tariff": {"storage_settings": {"reserved_soc": 101}}}),
        ("POST", "/ivp/ss/gen_mode", {"gen_cmd": "ON!"}),
        ("POST", "/ivp/ss/gen_schedule", {"exercise_config": {"day": "Mon", "duration": 5}}),
    ]
    for method, path, body in bad:
        status, reply = await _call(sim, method, path, body)
        assert status == 400, (path, body)
        assert "error" in reply
    status, _ = await _call(sim, "POST", "/ivp/ensemble/relay", raw=b"{not json")
    assert status == 400
    assert (await _call(sim, "GET", "/ivp/ensemble/inventory"))[1] == before_inv
    assert (await _call(sim, "GET", "/admin/lib/tariff"))[1] == before_tariff


async def test_write_to_read_only_or_missing_feature(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator("7.6.175_with_cts")  # no Enpower, no generator
    assert (await _call(sim, "POST", "/production.json", {}))[0] == 405
    assert (await _call(sim, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}))[
        0
    ] == 404
    assert (await _call(sim, "POST", "/ivp/ss/gen_mode", {"gen_cmd": "on"}))[0] == 404


async def test_acb_sleep_and_wake(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator("8.3.5169_ACB_inventory")
    serial = "121917000000"
    body = {"acb_sleep": [{"serial_num": serial, "sleep_min_soc": 20, "sleep_max_soc": 40}]}
    assert (await _call(sim, "PUT", "/admin/lib/acb_config", body))[0] == 200
    _, inventory = await _call(sim, "GET", "/inventory.json?deleted=1")
    acb = next(
        d
        for g in inventory
        if g["type"] == "ACB"
        for d in g["devices"]
        if d["serial_num"] == serial
    )
    assert (acb["sleep_enabled"], acb["sleep_min_soc"], acb["sleep_max_soc"]) == (True, 20, 40)
    bad = {"acb_sleep": [{"serial_num": serial, "sleep_min_soc": 50, "sleep_max_soc": 40}]}
    assert (await _call(sim, "PUT", "/admin/lib/acb_config", bad))[0] == 400
    wake = {"acb_sleep": [{"serial_num": serial}]}
    assert (await _call(sim, "DELETE", "/admin/lib/acb_config", wake))[0] == 200
    assert sim.document("/inventory.json?deleted=1")[1]["devices"][0]["sleep_enabled"] is False


async def test_legacy_write_needs_digest(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator("5.0.62")
    async with sim_session(sim) as session:
        url = f"{sim.url}/ivp/ensemble/relay"
        async with session.post(url, json={"mains_admin_state": "open"}) as resp:
            assert resp.status == 401
    assert sim.requests.writes()[0].status == 401


async def test_cloud_revert_restores_storage_settings_and_bumps_date(
    envoy_simulator: StartSimulator,
) -> None:
    clock = FakeClock()
    sim = await envoy_simulator("8.2.4345_with_device_data", clock=clock)
    async with sim_session(sim) as session:
        url = f"{sim.url}/__sim__/faults"
        rule = {"kind": "cloud_revert", "seconds": 0.05, "count": 1}
        async with session.post(url, json=rule) as resp:
            assert resp.status == 201
    _, before = await _call(sim, "GET", "/admin/lib/tariff")
    original = before["tariff"]["storage_settings"]
    tariff = before["tariff"]
    tariff["storage_settings"] = dict(original, reserved_soc=80.0)
    assert (await _call(sim, "PUT", "/admin/lib/tariff", {"tariff": tariff}))[0] == 200
    _, shown = await _call(sim, "GET", "/admin/lib/tariff")
    assert shown["tariff"]["storage_settings"]["reserved_soc"] == 80.0  # accepted and shown
    assert shown["tariff"]["date"] == before["tariff"]["date"]
    await sim.cloud.wait_push()
    _, after = await _call(sim, "GET", "/admin/lib/tariff")
    restored = after["tariff"]["storage_settings"]
    assert {k: v for k, v in restored.items() if k != "date"} == {
        k: v for k, v in original.items() if k != "date"
    }
    assert restored["date"] == after["tariff"]["date"] == str(int(clock.now))
    assert after["tariff"]["date"] != before["tariff"]["date"]
    assert sim.status()["cloud_pushes"] == 1
    # count=1: the rule is used up, the next write sticks
    tariff["storage_settings"] = dict(original, reserved_soc=70.0)
    assert (await _call(sim, "PUT", "/admin/lib/tariff", {"tariff": tariff}))[0] == 200
    await sim.cloud.wait_push()
    _, last = await _call(sim, "GET", "/admin/lib/tariff")
    assert last["tariff"]["storage_settings"]["reserved_soc"] == 70.0
    assert sim.status()["cloud_pushes"] == 1


async def test_cloud_revert_undoes_writes_in_a_row_to_the_first_settings(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("8.2.4345_with_device_data")
    await sim.inject(Fault(FaultKind.CLOUD_REVERT, seconds=0.05))
    assert [f.kind for f in sim.faults.active(sim.clock())] == [FaultKind.CLOUD_REVERT]
    _, before = await _call(sim, "GET", "/admin/lib/tariff")
    original = before["tariff"]["storage_settings"]["reserved_soc"]
    for reserve in (60.0, 65.0):
        tariff = before["tariff"]
        tariff["storage_settings"] = dict(tariff["storage_settings"], reserved_soc=reserve)
        assert (await _call(sim, "PUT", "/admin/lib/tariff", {"tariff": tariff}))[0] == 200
    await sim.cloud.wait_push()
    _, after = await _call(sim, "GET", "/admin/lib/tariff")
    assert after["tariff"]["storage_settings"]["reserved_soc"] == original
    assert sim.cloud.pushes == 1
    with pytest.raises(ValueError, match="cloud_revert needs seconds"):
        Fault(FaultKind.CLOUD_REVERT)
