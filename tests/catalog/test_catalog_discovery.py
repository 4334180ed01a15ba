"""Home Assistant discovery built from real fixtures: devices, entities, metadata, controls."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import msgspec
import pytest

from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.discovery import (
    DiscoveryOptions,
    discovery_payloads,
    stale_discovery_topics,
    with_removed_components,
)
from envoy2mqtt.catalog.state import state_payloads
from tests.catalog_helpers import SYSTEM_FIXTURES, fixture_names, render, snapshot

ALL_ON = DiscoveryOptions(controls=ControlFlags(grid_relay=True, dry_contacts=True, storage=True))


def _device(payloads: dict[str, Any], name: str, suffix: str = "") -> dict[str, Any]:
    sn = snapshot(name).serial
    return payloads[f"homeassistant/device/envoy2mqtt_{sn}{suffix}/config"]


def _cmps(name: str, options: DiscoveryOptions = ALL_ON, suffix: str = "") -> dict[str, Any]:
    return _device(discovery_payloads(snapshot(name), options), name, suffix)["cmps"]  # type: ignore[no-any-return]


def _all_components(payloads: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p["dev"], c) for p in payloads.values() for c in p["cmps"].values()]


@pytest.mark.parametrize("name", SYSTEM_FIXTURES)
def test_every_entity_has_availability_origin_and_a_linked_device(name: str) -> None:
    snap = snapshot(name)
    payloads = discovery_payloads(snap, ALL_ON)
    gateway_id = f"envoy2mqtt_{snap.serial}"
    for topic, payload in payloads.items():
        assert topic.startswith("homeassistant/device/envoy2mqtt_")
        assert topic.endswith("/config")
        assert payload["o"] == {
            "name": "envoy2mqtt",
            "sw_version": ALL_ON.bridge_version,
            "support_url": ALL_ON.support_url,
        }
        dev = payload["dev"]
        assert dev["manufacturer"] == "Enphase"
        if dev["identifiers"] != [gateway_id]:
            assert dev["via_device"].startswith(gateway_id)
        for config in payload["cmps"].values():
            assert config["availability"] == [
                {"topic": "envoy2mqtt/bridge/state"},
                {"topic": f"envoy2mqtt/{snap.serial}/availability"},
            ]
            assert config["availability_mode"] == "all"
            assert config["state_topic"].startswith(f"envoy2mqtt/{snap.serial}/")
    unique_ids = [c["unique_id"] for _, c in _all_components(payloads)]
    assert len(unique_ids) == len(set(unique_ids))


def test_legacy_envoy_has_production_and_inverters_only() -> None:
    payloads = discovery_payloads(snapshot("3.17.3"), ALL_ON)
    gateway = _cmps("3.17.3")
    assert {"production", "daily_production", "lifetime_production"} <= set(gateway)
    assert not {"consumption", "net_consumption", "battery_level", "charge_from_grid"} & set(
        gateway
    )
    assert not [k for k in gateway if k.endswith(("_l1", "_l2", "_l3"))]
    models = Counter(p["dev"]["model"] for p in payloads.values())
    assert models == {"Envoy": 1, "Inverter": 41}
    power = gateway["production"]
    assert (power["device_class"], power["state_class"], power["unit_of_measurement"]) == (
        "power",
        "measurement",
        "W",
    )
    # HA suggests kW with 3 decimals; in W that is 0 decimals.
    assert power["suggested_display_precision"] == 0


def test_inverter_device_and_entities() -> None:
    snap = snapshot("3.17.3")
    serial = sorted(snap.data.inverters)[0]
    dev = _device(discovery_payloads(snap), "3.17.3", f"_inverter_{serial}")
    assert dev["dev"]["name"] == f"Inverter {serial}"
    assert dev["dev"]["via_device"] == f"envoy2mqtt_{snap.serial}"
    cmps = dev["cmps"]
    assert cmps["inverters"]["name"] is None  # HA shows the device name alone
    assert "enabled_by_default" not in cmps["inverters"]
    assert cmps["dc_voltage"]["enabled_by_default"] is False
    assert cmps["last_reported"]["device_class"] == "timestamp"
    assert cmps["energy_produced"]["unit_of_measurement"] == "mWh"
    assert cmps["energy_produced"]["state_class"] == "total"
    assert cmps["temperature"]["entity_category"] == "diagnostic"
    assert cmps["inverters"]["unique_id"] == f"{snap.serial}_inverter_{serial}_inverters"


def test_three_phase_ct_system_gets_disabled_phase_variants() -> None:
    gateway = _cmps("7.3.466_with_cts_3phase")
    for key in ("production", "consumption", "net_consumption", "production_ct_voltage"):
        for phase in ("l1", "l2", "l3"):
            variant = gateway[f"{key}_{phase}"]
            assert variant["enabled_by_default"] is False
            assert variant["value_template"].startswith(f"{{{{ value_json.phases.{phase}.")
    assert gateway["lifetime_net_consumption"]["state_class"] == "total_increasing"
    assert gateway["lifetime_balanced_net_consumption"]["state_class"] == "total"
    assert gateway["balanced_net_consumption"]["enabled_by_default"] is False
    assert gateway["net_consumption_ct_metering_status"]["options"] == [
        "normal",
        "not-metering",
        "check-wiring",
    ]
    assert not [k for k in gateway if k.startswith(("storage_ct", "lifetime_battery"))]


def test_split_phase_collar_system_has_two_phases_and_collar_c6_devices() -> None:
    gateway = _cmps("8.3.1598_collar")
    assert "lifetime_battery_charged_l2" in gateway
    assert not [k for k in gateway if k.endswith("_l3")]
    assert gateway["backfeed_ct_power"]["enabled_by_default"] is False  # extra, off
    snap = snapshot("8.3.1598_collar")
    collar = _device(discovery_payloads(snap), "8.3.1598_collar", "_collar_482520020939")
    assert collar["dev"]["model"] == "IQ Meter Collar"
    assert collar["dev"]["sw_version"] == "3.0.6-D0"
    assert collar["cmps"]["communicating"]["platform"] == "binary_sensor"
    assert collar["cmps"]["communicating"]["device_class"] == "connectivity"
    c6 = _device(discovery_payloads(snap), "8.3.1598_collar", "_c6cc_482523040549")
    assert c6["dev"]["name"] == "C6 Combiner 482523040549"
    assert set(c6["cmps"]) == {"communicating", "last_reported"}


def test_batteries_enpower_relays_and_storage_controls_when_enabled() -> None:
    snap = snapshot("7.3.517")
    payloads = discovery_payloads(snap, ALL_ON)
    enpower_sn = snap.data.enpower.serial_number  # type: ignore[union-attr]
    enpower = _device(payloads, "7.3.517", f"_enpower_{enpower_sn}")
    cmps = enpower["cmps"]
    assert cmps["temperature"]["unit_of_measurement"] == "°F"
    grid = cmps["mains_admin_state"]
    assert grid["platform"] == "switch"
    assert grid["command_topic"] == f"envoy2mqtt/{snap.serial}/grid_relay/set"
    assert grid["optimistic"] is False
    assert cmps["storage_mode"]["options"] == ["backup", "self_consumption", "savings"]
    assert cmps["storage_mode"]["command_topic"].endswith("/storage_mode/set")
    reserve = cmps["reserve_soc_number"]
    assert (reserve["min"], reserve["max"], reserve["step"]) == (0, 100, 1)
    assert reserve["unique_id"] == f"{snap.serial}_enpower_{enpower_sn}_reserve_soc_number"
    relay = _device(payloads, "7.3.517", "_relay_nc1")
    assert relay["dev"]["name"] == "NC1 Test"
    assert relay["dev"]["via_device"] == f"envoy2mqtt_{snap.serial}_enpower_{enpower_sn}"
    assert relay["cmps"]["relay_status"]["command_topic"].endswith("/dry_contacts/nc1/set")
    assert relay["cmps"]["mode"]["command_topic"].endswith("/dry_contacts/nc1/settings/set")
    assert relay["cmps"]["soc_low"]["entity_category"] == "config"
    assert "relay_closed" not in relay["cmps"]  # the read-only stand-in is for disabled only
    batteries = [p for p in payloads.values() if p["dev"]["model"] == "Encharge"]
    assert len(batteries) == 3
    assert batteries[0]["cmps"]["soc"]["device_class"] == "battery"
    assert batteries[0]["dev"]["sw_version"] == "2.0.5663_rel/22.13"


def test_dangerous_controls_get_no_entity_unless_enabled() -> None:
    payloads = discovery_payloads(snapshot("7.3.517"))  # defaults: relay + contacts off
    components = _all_components(payloads)
    topics = [c.get("command_topic", "") for _, c in components]
    assert not [t for t in topics if "grid_relay" in t or "dry_contacts" in t]
    assert [t for t in topics if t.endswith("/reserve_soc/set")]  # storage stays on
    relays = [p for p in payloads.values() if p["dev"]["model"] == "Dry contact relay"]
    assert len(relays) == 4
    assert all(set(p["cmps"]) == {"relay_closed"} for p in relays)
    no_storage = DiscoveryOptions(controls=ControlFlags(storage=False))
    topics = [
        c.get("command_topic")
        for _, c in _all_components(discovery_payloads(snapshot("7.3.517"), no_storage))
    ]
    assert topics == [None] * len(topics)


def test_acb_system_has_acb_device_and_storage_controls_on_the_gateway() -> None:
    snap = snapshot("8.2.4382_ACB")
    payloads = discovery_payloads(snap, ALL_ON)
    acb = _device(payloads, "8.2.4382_ACB", "_acb")
    assert acb["dev"]["name"] == f"ACB {snap.serial}"
    assert acb["cmps"]["acb_battery_state"]["options"] == [
        "discharging",
        "idle",
        "charging",
        "full",
    ]
    gateway = _device(payloads, "8.2.4382_ACB")["cmps"]
    assert gateway["acb_available_energy"]["device_class"] == "energy_storage"
    assert gateway["aggregated_soc"]["unit_of_measurement"] == "%"
    assert gateway["reserve_soc"]["platform"] == "sensor"
    assert gateway["reserve_soc_number"]["platform"] == "number"
    assert gateway["storage_mode"]["platform"] == "select"
    assert not [p for p in payloads.values() if p["dev"]["model"] == "Enpower"]


def test_generator_extras_and_no_absent_features() -> None:
    gateway = _cmps("8.3.5169_with_generator")
    assert {"generator_admin_state", "generator_oper_state"} <= set(gateway)
    for name in ("3.17.3", "7.3.517", "8.3.1598_collar"):
        assert "generator_oper_state" not in _cmps(name)
    assert "acb_available_energy" not in _cmps("7.3.517")


def test_component_mode_publishes_one_config_per_entity() -> None:
    snap = snapshot("7.3.517")
    options = DiscoveryOptions(mode="component", discovery_prefix="ha", controls=ALL_ON.controls)
    per_entity = discovery_payloads(snap, options)
    per_device = discovery_payloads(snap, ALL_ON)
    assert len(per_entity) == sum(len(p["cmps"]) for p in per_device.values())
    topic = f"ha/sensor/envoy2mqtt_{snap.serial}/production/config"
    config = per_entity[topic]
    assert "platform" not in config
    assert config["device"]["identifiers"] == [f"envoy2mqtt_{snap.serial}"]
    assert config["origin"]["name"] == "envoy2mqtt"
    assert f"ha/switch/envoy2mqtt_{snap.serial}_relay_nc1/relay_status/config" in per_entity


@pytest.mark.parametrize("name", fixture_names())
def test_value_templates_render_valid_states_from_the_state_payloads(name: str) -> None:
    snap = snapshot(name)
    states = state_payloads(snap)
    prefix = f"envoy2mqtt/{snap.serial}/"
    for _, config in _all_components(discovery_payloads(snap, ALL_ON)):
        group = config["state_topic"].removeprefix(prefix)
        assert group in states, f"{config['unique_id']}: no state payload {group}"
        out = render(config["value_template"], states[group])
        _check_state(config, out)


def _ha_string(value: Any) -> str:
    """A discovery field as HA's ``cv.string`` reads it (JSON true -> "True")."""
    return str(value)


def _check_state(config: dict[str, Any], out: str) -> None:
    where = f"{config['unique_id']} -> {out!r}"
    if out == "None":
        return  # unknown in HA: the Envoy did not report this value
    platform = config["platform"]
    if platform == "binary_sensor":
        assert out in (_ha_string(config["payload_on"]), _ha_string(config["payload_off"])), where
    elif platform == "switch":
        assert out in (_ha_string(config["state_on"]), _ha_string(config["state_off"])), where
    elif platform == "select" or config.get("device_class") == "enum":
        assert out in config["options"], where
    elif config.get("device_class") == "timestamp":
        assert dt.datetime.fromisoformat(out).tzinfo is not None, where
    elif "unit_of_measurement" in config or "state_class" in config or platform == "number":
        float(out)  # numeric sensors must render numbers


def _without_meter_values(name: str, **changes: Any) -> dict[str, Any]:
    snap = snapshot(name)
    meters = dict(snap.data.ctmeters)
    meters["net-consumption"] = msgspec.structs.replace(meters["net-consumption"], **changes)  # type: ignore[type-var]
    data = msgspec.structs.replace(snap.data, ctmeters=meters)
    return state_payloads(dataclasses.replace(snap, data=data))["meters/net-consumption"]


def test_missing_values_render_unknown_and_missing_flags_render_zero() -> None:
    gateway = _cmps("7.3.466_with_cts_3phase")
    meter = _without_meter_values("7.3.466_with_cts_3phase", current=None, status_flags=None)
    assert meter["current"] is None  # present, null: HA shows unknown
    assert render(gateway["net_ct_current"]["value_template"], meter) == "None"
    assert meter["status_flag_count"] == 0  # HA counts no flags as 0
    assert render(gateway["net_consumption_ct_status_flags"]["value_template"], meter) == "0"
    flags = ["production-imbalance", "negative-production"]
    meter = _without_meter_values("7.3.466_with_cts_3phase", status_flags=flags)
    assert render(gateway["net_consumption_ct_status_flags"]["value_template"], meter) == "2"


def test_stale_topics_and_removed_components() -> None:
    snap = snapshot("7.3.517")
    before = discovery_payloads(snap, ALL_ON)
    gone = sorted(snap.data.inverters)[0]
    data = msgspec.structs.replace(
        snap.data,
        inverters={k: v for k, v in snap.data.inverters.items() if k != gone},
        tariff=None,
    )
    after = discovery_payloads(dataclasses.replace(snap, data=data), ALL_ON)
    assert stale_discovery_topics(before, after) == [
        f"homeassistant/device/envoy2mqtt_{snap.serial}_inverter_{gone}/config"
    ]
    enpower_topic = next(t for t in after if "_enpower_" in t)
    patched = with_removed_components(before, after)[enpower_topic]["cmps"]
    assert patched["storage_mode"] == {"platform": "select"}
    assert patched["charge_from_grid"] == {"platform": "switch"}
    assert patched["temperature"] == after[enpower_topic]["cmps"]["temperature"]
    assert with_removed_components(before, before) == before


def _rendered(name: str, suffix: str, key: str) -> str:
    snap = snapshot(name)
    config = _cmps(name, ALL_ON, suffix)[key]
    group = config["state_topic"].removeprefix(f"envoy2mqtt/{snap.serial}/")
    return render(config["value_template"], state_payloads(snap)[group])


def test_rendered_states_match_the_data() -> None:
    snap = snapshot("7.3.517")
    data = snap.data
    assert _rendered("7.3.517", "", "production") == str(data.system_production.watts_now)  # type: ignore[union-attr]
    enpower = f"_enpower_{data.enpower.serial_number}"  # type: ignore[union-attr]
    assert _rendered("7.3.517", enpower, "storage_mode") == "backup"
    assert _rendered("7.3.517", enpower, "charge_from_grid") == "True"  # = state_on true
    assert _rendered("7.3.517", enpower, "mains_admin_state") == "closed"  # = state_on
    assert _rendered("7.3.517", enpower, "last_reported") == "2023-08-23T19:11:13+00:00"
    assert _rendered("7.3.517_legacy_savings_mode", enpower, "storage_mode") == "savings"
    assert _rendered("7.3.517", "_relay_nc1", "mode") == "standard"
    assert _rendered("7.3.517", "_relay_nc1", "grid_action") == "powered"
    assert _rendered("7.3.517", "_relay_nc1", "relay_status") == "closed"
    collar = "_collar_482520020939"
    assert _rendered("8.3.1598_collar", collar, "admin_state_str") == "on_grid"
    battery = "_encharge_492516006337"
    power = snapshot("8.3.1598_collar").data.encharge_power["492516006337"]  # type: ignore[index]
    assert float(_rendered("8.3.1598_collar", battery, "real_power_mw")) == pytest.approx(
        power.real_power_mw / 1000
    )


def test_relay_without_load_name_is_named_by_its_id() -> None:
    snap = snapshot("7.3.517")
    settings = dict(snap.data.dry_contact_settings)
    settings["NC1"] = msgspec.structs.replace(settings["NC1"], load_name="")
    data = msgspec.structs.replace(snap.data, dry_contact_settings=settings)
    payloads = discovery_payloads(dataclasses.replace(snap, data=data), ALL_ON)
    assert _device(payloads, "7.3.517", "_relay_nc1")["dev"]["name"] == "NC1"


def _ids(payloads: dict[str, Any]) -> tuple[set[str], set[str]]:
    uids = {c["unique_id"] for p in payloads.values() for c in p["cmps"].values()}
    devices = {i for p in payloads.values() for i in p["dev"]["identifiers"]}
    vias = {p["dev"]["via_device"] for p in payloads.values() if "via_device" in p["dev"]}
    assert vias <= devices  # links stay inside the namespace
    return uids, devices


@pytest.mark.parametrize("mode", ["device", "component"])
def test_an_id_prefix_gives_every_id_and_topic_its_own_namespace(mode: str) -> None:
    snap = snapshot("7.3.517")
    real = discovery_payloads(snap, dataclasses.replace(ALL_ON, mode=mode))
    demo = discovery_payloads(
        snap, dataclasses.replace(ALL_ON, mode=mode, id_prefix="envoy2mqtt-demo")
    )
    assert len(demo) == len(real)
    assert not set(demo) & set(real)
    assert all(f"/envoy2mqtt-demo_{snap.serial}" in t for t in demo)
    if mode == "device":
        real_ids, demo_ids = _ids(real), _ids(demo)
        assert all(u.startswith(f"envoy2mqtt-demo_{snap.serial}_") for u in demo_ids[0])
        assert all(d.startswith(f"envoy2mqtt-demo_{snap.serial}") for d in demo_ids[1])
        assert not real_ids[0] & demo_ids[0]
        assert not real_ids[1] & demo_ids[1]
        assert len(demo_ids[0]) == len(real_ids[0])
