"""State payloads per group: contract names, Envoy units, nulls only where read, clean topics."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from envoy2mqtt.catalog.naming import join_id, sanitize_topic_level
from envoy2mqtt.catalog.registry import entities
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.envoy.features import SupportedFeatures
from tests.catalog_helpers import FIXTURES, fixture_names, snapshot

TOPIC = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+)*$")
CONTRACT_GROUPS = re.compile(
    r"^(gateway|production|consumption|net_consumption|battery|acb|enpower|collar|c6cc|storage"
    r"|generator|meters/(production|net-consumption|total-consumption|storage|backfeed|load"
    r"|evse|pv3p)|(inverters|batteries|dry_contacts)/[a-z0-9_-]+)$"
)


def _nulls(value: Any, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


def _template_keys(snap: Snapshot) -> dict[str, set[str]]:
    """Group -> the key paths value templates read (``.current``, ``.phases.l1.current``)."""
    keys: dict[str, set[str]] = {}
    for entity in entities(snap, any_flags=True):
        phase = f".phases.{entity.spec.phase}" if entity.spec.phase else ""
        keys.setdefault(entity.topic, set()).add(f"{phase}.{entity.spec.value}")
    return keys


@pytest.mark.parametrize("name", fixture_names())
def test_payloads_are_json_with_nulls_only_where_a_template_reads(name: str) -> None:
    snap = snapshot(name)
    payloads = state_payloads(snap)
    read = _template_keys(snap)
    assert "gateway" in payloads
    for topic, payload in payloads.items():
        assert TOPIC.match(topic), topic
        assert CONTRACT_GROUPS.match(topic), topic
        stray = set(_nulls(payload)) - read.get(topic, set())
        assert not stray, f"{topic}: null but read by no template: {sorted(stray)}"
        assert json.loads(json.dumps(payload)) == payload
        assert payload, f"{topic} is empty"


def test_gateway_payload() -> None:
    snap = snapshot("8.3.1598_collar")
    gateway = state_payloads(snap)["gateway"]
    assert gateway["serial"] == snap.serial
    assert gateway["firmware"] == "8.3.1598"
    assert gateway["part_number"] == "800-02409-r03"
    assert gateway["model"].startswith("Envoy, phases: 2")
    assert "COLLAR" in gateway["supported_features"]
    assert (gateway["phase_count"], gateway["phase_mode"]) == (2, "split")
    assert gateway["ct_meters"] == ["backfeed", "net-consumption", "production", "storage"]
    assert gateway["token_expires_at"] == 1_900_000_000
    assert gateway["last_poll"] == 1.7e9
    legacy = state_payloads(snapshot("3.17.3"))["gateway"]
    assert "phase_mode" not in legacy  # absent, not null
    assert "consumption_meter_type" not in legacy


def test_system_groups_carry_phases_only_when_present() -> None:
    three = state_payloads(snapshot("7.3.466_with_cts_3phase"))
    production = three["production"]
    data = snapshot("7.3.466_with_cts_3phase").data
    assert production["watts_now"] == data.system_production.watts_now  # type: ignore[union-attr]
    assert set(production["phases"]) == {"l1", "l2", "l3"}
    assert production["phases"]["l2"] == {
        "watt_hours_lifetime": data.system_production_phases["L2"].watt_hours_lifetime,  # type: ignore[index, union-attr]
        "watt_hours_last_7_days": data.system_production_phases["L2"].watt_hours_last_7_days,  # type: ignore[index, union-attr]
        "watt_hours_today": data.system_production_phases["L2"].watt_hours_today,  # type: ignore[index, union-attr]
        "watts_now": data.system_production_phases["L2"].watts_now,  # type: ignore[index, union-attr]
    }
    meter = three["meters/net-consumption"]
    assert set(meter["phases"]) == {"l1", "l2", "l3"}
    assert meter["status_flags"] == []
    legacy = state_payloads(snapshot("3.17.3"))
    assert "phases" not in legacy["production"]
    assert not {"consumption", "net_consumption", "battery", "storage"} & set(legacy)
    assert not [t for t in legacy if t.startswith("meters/")]


def test_device_groups() -> None:
    snap = snapshot("7.3.517")
    payloads = state_payloads(snap)
    inverter = payloads["inverters/202042084581"]
    reported = {k: v for k, v in inverter.items() if v is not None}
    assert reported == {
        "serial_number": "202042084581",
        "last_report_date": 1692817988,
        "last_report_date_iso": "2023-08-23T19:13:08+00:00",
        "last_report_watts": 199,
        "max_report_watts": 245,
    }
    # what this firmware does not report is there for the templates, as null (unknown)
    assert inverter["dc_voltage"] is None
    assert inverter["lifetime_energy"] is None
    battery = payloads["batteries/122035013273"]
    assert battery["firmware_version"] == "2.0.5663_rel/22.13"  # from the inventory
    assert battery["real_power_mw"] == 0  # merged from /ivp/ensemble/power
    assert battery["real_power_w"] == 0  # in W for HA
    assert battery["soc"] == 100
    relay = payloads["dry_contacts/nc1"]
    assert relay["id"] == "NC1"
    assert relay["status"] == "closed"
    assert relay["load_name"] == "NC1 Test"
    assert relay["soc_low"] == 25.0
    assert (relay["mode"], relay["envoy_mode"]) == ("standard", "manual")
    assert (relay["grid_action"], relay["envoy_grid_action"]) == ("powered", "apply")
    assert (relay["micro_grid_action"], relay["envoy_micro_grid_action"]) == ("not_powered", "shed")
    assert (payloads["storage"]["mode"], payloads["storage"]["envoy_mode"]) == ("backup", "backup")
    assert payloads["storage"]["date"] == 1692471808  # a number, not the Envoy's string
    assert payloads["storage"]["reserved_soc"] == 100.0
    assert "opt_schedules" not in payloads["storage"]  # None upstream: omitted
    assert payloads["enpower"]["mains_admin_state"] == "closed"
    assert payloads["battery"]["state_of_charge"] == 100


def test_acb_collar_and_generator_groups() -> None:
    acb = state_payloads(snapshot("8.2.4382_ACB"))
    assert acb["acb"] == {
        "power": 260,
        "charge_wh": 930,
        "state_of_charge": 25,
        "state": "discharging",
        "batteries": 3,
    }
    assert acb["battery"]["aggregated_state_of_charge"] == 39
    assert acb["battery"]["state_of_charge"] == 54  # Encharge aggregate kept beside it
    collar = state_payloads(snapshot("8.3.1598_collar"))
    assert collar["collar"]["grid_state"] == "on_grid"
    assert collar["c6cc"]["serial_number"] == "482523040549"
    gen = state_payloads(snapshot("8.3.5169_with_generator"))["generator"]
    assert gen["oper_state"] == "open"
    assert gen["config"]["manufacturer"] == "Generac"
    assert gen["mode"]["gen_cmd"] == "on"
    assert gen["exercise"]["exercise_day"] == "Sat"


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("NC1", "nc1"),
        ("net-consumption", "net-consumption"),
        ("a/b+c#d e", "a_b_c_d_e"),
        ("  Ünïcode!!  ", "unicode"),
        ("///", "id_" + hashlib.sha256(b"///").hexdigest()[:10]),
        ("x" * 100, "x" * 64),
    ],
)
def test_sanitize_topic_level(raw: str, level: str) -> None:
    assert sanitize_topic_level(raw) == level
    assert TOPIC.match(sanitize_topic_level(raw))


def test_join_id_sanitises_every_part() -> None:
    assert join_id("123", "relay_NC1", "Mode") == "123_relay_nc1_mode"


def test_snapshot_from_expected() -> None:
    snap = snapshot("7.3.517")
    assert snap.name == f"Envoy {snap.serial}"
    assert SupportedFeatures.ENPOWER in snap.features
    assert SupportedFeatures.CTMETERS not in snap.features
    assert Snapshot.from_expected(_expected("7.3.517"), name="Garage").name == "Garage"
    with pytest.raises(ValueError, match="no Envoy state"):
        Snapshot.from_expected({"error": {"type": "EnvoyProbeFailed"}})


def _expected(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name / "expected.json").read_text())  # type: ignore[no-any-return]
