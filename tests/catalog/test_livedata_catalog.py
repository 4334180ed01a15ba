"""The ``livedata`` state group and its gateway entities, for token fixtures with live data."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgspec

from envoy2mqtt.catalog.discovery import DiscoveryOptions, discovery_payloads
from envoy2mqtt.catalog.registry import entities
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.envoy.models.raw_livedata import LIVE_STATUS_DECODER
from envoy2mqtt.envoy.updaters.livedata import live_data
from tests.catalog_helpers import render, snapshot
from tests.livedata_helpers import status_body

SPLIT = "8.3.5169_with_generator"  # CTs, Enpower, batteries, generator
BATTERIES_NO_CT = "7.3.517"  # Enpower + batteries, no CTs
NO_BATTERIES = "7.6.175_with_cts"
OPTIONS = DiscoveryOptions()
AGGREGATES = ("live_pv_power", "live_grid_power", "live_load_power")


def _with_live(name: str, body: dict[str, Any] | None = None) -> Snapshot:
    base = snapshot(name)
    doc = LIVE_STATUS_DECODER.decode(json.dumps(body or status_body()).encode())
    data = msgspec.structs.replace(base.data, livedata=live_data(doc))
    return dataclasses.replace(base, data=data)


def _cmps(snap: Snapshot) -> dict[str, Any]:
    payloads = discovery_payloads(snap, OPTIONS)
    gateway = payloads[f"homeassistant/device/envoy2mqtt_{snap.serial}/config"]
    return {c["unique_id"].removeprefix(f"{snap.serial}_"): c for c in gateway["cmps"].values()}


def _keys(snap: Snapshot) -> set[str]:
    return {e.spec.key for e in entities(snap) if e.spec.topic == "livedata"}


def test_state_payload_is_in_watts_with_phases() -> None:
    payload = state_payloads(_with_live(SPLIT))["livedata"]
    assert payload == {
        "last_update": 1_700_000_000,
        "last_update_iso": "2023-11-14T22:13:20+00:00",  # what the timestamp entity reads
        "stream_enabled": True,
        "pv_power": 4200,
        "grid_power": -701,
        "load_power": 2500,
        "storage_power": -1000,
        "generator_power": 0,
        "soc": 87,
        "backup_soc": 20,
        "enc_agg_soc": 87,
        "enc_agg_energy": 8700,
        "acb_agg_soc": 0,
        "acb_agg_energy": 0,
        "main_relay_state": 1,
        "gen_relay_state": 5,
        "backup_bat_mode": 1,
        "phase_count": 2,
        "is_split_phase": True,
        "phases": {
            "l1": {
                "pv_power": 2100,
                "grid_power": -350,
                "load_power": 1250,
                "storage_power": -500,
                "generator_power": 0,
            },
            "l2": {
                "pv_power": 2100,
                "grid_power": -351,
                "load_power": 1250,
                "storage_power": -500,
                "generator_power": 0,
            },
        },
    }


def test_no_livedata_means_no_topic_and_no_entities() -> None:
    snap = snapshot(BATTERIES_NO_CT)
    assert "livedata" not in state_payloads(snap)
    assert _keys(snap) == set()
    assert not any(key.startswith("envoy_live") for key in _cmps(snap))


def test_battery_system_without_cts_gets_live_power_entities() -> None:
    snap = _with_live(BATTERIES_NO_CT)
    cmps = _cmps(snap)
    state = state_payloads(snap)["livedata"]
    expected = {
        "envoy_live_pv_power": ("Live solar power", "4200"),
        "envoy_live_grid_power": ("Live grid power", "-701"),
        "envoy_live_load_power": ("Live load power", "2500"),
        "envoy_live_storage_power": ("Live battery power", "-1000"),
    }
    for key, (name, rendered) in expected.items():
        config = cmps[key]
        assert config["name"] == name
        assert config["platform"] == "sensor"
        assert config["device_class"] == "power"
        assert config["state_class"] == "measurement"
        assert config["unit_of_measurement"] == "W"
        assert config["state_topic"] == f"envoy2mqtt/{snap.serial}/livedata"
        assert "enabled_by_default" not in config
        assert render(config["value_template"], state) == rendered
    level = cmps["envoy_live_soc"]
    assert (level["name"], level["device_class"], level["unit_of_measurement"]) == (
        "Live battery level",
        "battery",
        "%",
    )
    assert render(level["value_template"], state) == "87"
    assert cmps["envoy_live_backup_soc"]["enabled_by_default"] is False
    updated = cmps["envoy_live_last_update"]
    assert updated["entity_category"] == "diagnostic"
    assert render(updated["value_template"], state) == "2023-11-14T22:13:20+00:00"


def test_phase_variants_are_disabled_and_read_the_phase() -> None:
    snap = _with_live(SPLIT)
    cmps = _cmps(snap)
    state = state_payloads(snap)["livedata"]
    l2 = cmps["envoy_live_grid_power_l2"]
    assert l2["enabled_by_default"] is False
    assert l2["name"] == "Live grid power l2"
    assert render(l2["value_template"], state) == "-351"
    assert "envoy_live_grid_power_l3" not in cmps, "phase_count 2"
    assert "envoy_live_generator_power" in cmps, "this fixture has a generator"


def test_entities_follow_what_is_reported_and_installed() -> None:
    body = status_body()
    del body["meters"]["grid"]
    keys = _keys(_with_live(NO_BATTERIES, body))
    assert {"live_pv_power", "live_load_power", "live_pv_power_l1"} <= keys
    assert "live_grid_power" not in keys
    # No batteries or generator here: their flows (zeros on such systems) get no entity.
    assert not {"live_storage_power", "live_soc", "live_generator_power"} & keys
    single = status_body(phase_count=1)
    assert not any(k.endswith(("_l1", "_l2")) for k in _keys(_with_live(NO_BATTERIES, single)))


def test_rendered_states_are_valid_for_a_minimal_body() -> None:
    snap = _with_live(BATTERIES_NO_CT, {"meters": {"pv": {"agg_p_mw": 1500}}})
    state = state_payloads(snap)["livedata"]
    assert state == {"pv_power": 2}  # keys no entity reads are not added as nulls
    keys = _keys(snap)
    assert keys == {"live_pv_power"}
    assert render(_cmps(snap)["envoy_live_pv_power"]["value_template"], state) == "2"
    assert set(AGGREGATES) - keys == {"live_grid_power", "live_load_power"}
