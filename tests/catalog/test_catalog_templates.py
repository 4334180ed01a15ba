"""Value templates any consumer renders: plain ``{{ value_json.<key> }}``, keys always present."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined

from benchmarks._soakcheck import _LOOKUP
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.discovery import DiscoveryOptions, discovery_payloads
from envoy2mqtt.catalog.state import state_payloads
from tests.catalog_helpers import fixture_names, snapshot

ALL_ON = DiscoveryOptions(controls=ControlFlags(grid_relay=True, dry_contacts=True, storage=True))
PLAIN = re.compile(r"^\{\{ value_json((?:\.[a-z_][a-z0-9_]*)+) \}\}$")
# Plain Jinja2, nothing of Home Assistant's: no filters or globals beyond the language's own,
# and a key the payload lacks is an error instead of an empty string.
MINIMAL = Environment(undefined=StrictUndefined, autoescape=False)


def _components(name: str, mode: str = "device") -> list[dict[str, Any]]:
    options = DiscoveryOptions(mode=mode, controls=ALL_ON.controls)  # type: ignore[arg-type]
    payloads = discovery_payloads(snapshot(name), options)
    if mode == "component":
        return list(payloads.values())
    return [c for p in payloads.values() for c in p["cmps"].values()]


def _lookup(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for key in path.strip(".").split("."):
        assert isinstance(value, dict), path
        assert key in value, f"{path}: {key} missing"
        value = value[key]
    return value


@pytest.mark.parametrize("name", fixture_names())
def test_every_template_is_plain_and_renders_the_payload_value(name: str) -> None:
    snap = snapshot(name)
    states = state_payloads(snap)
    prefix = f"envoy2mqtt/{snap.serial}/"
    for config in _components(name):
        template, where = config["value_template"], config["unique_id"]
        match = PLAIN.match(template)
        assert match, f"{where}: {template}"
        payload = states[config["state_topic"].removeprefix(prefix)]
        rendered = MINIMAL.from_string(template).render(value_json=payload)
        expected = _lookup(payload, match.group(1))
        assert rendered == str(expected), where  # null renders None: unknown in HA
        assert not isinstance(expected, dict | list), where


@pytest.mark.parametrize("name", ["7.3.517", "8.3.1598_collar"])
def test_component_mode_uses_the_same_templates(name: str) -> None:
    by_id = {c["unique_id"]: c["value_template"] for c in _components(name)}
    per_entity = {c["unique_id"]: c["value_template"] for c in _components(name, "component")}
    assert per_entity == by_id


def test_unknown_values_render_none_and_timestamps_render_iso_8601() -> None:
    snap = snapshot("7.3.517")
    states = state_payloads(snap)
    inverter = states["inverters/202042084581"]
    templates = {c["unique_id"]: c["value_template"] for c in _components("7.3.517")}
    base = f"{snap.serial}_inverter_202042084581"
    dc = MINIMAL.from_string(templates[f"{base}_dc_voltage"]).render(value_json=inverter)
    assert dc == "None"  # not reported by this firmware: HA shows unknown, never 0
    last = MINIMAL.from_string(templates[f"{base}_last_reported"]).render(value_json=inverter)
    assert last == "2023-08-23T19:13:08+00:00"
    assert inverter["last_report_date"] == 1692817988  # the epoch stays a number


def test_binary_sensors_and_switches_name_their_json_states() -> None:
    cmps = {c["unique_id"].split("_", 1)[1]: c for c in _components("7.3.517")}
    enpower = "enpower_122029016399"
    charge = cmps[f"{enpower}_charge_from_grid"]
    assert (charge["state_on"], charge["state_off"]) == (True, False)
    assert (charge["payload_on"], charge["payload_off"]) == ("ON", "OFF")  # what HA sends
    grid = cmps[f"{enpower}_mains_admin_state"]
    assert (grid["state_on"], grid["state_off"]) == ("closed", "open")
    status = cmps[f"{enpower}_mains_oper_state"]
    assert (status["payload_on"], status["payload_off"]) == ("closed", "open")
    dc_switch = cmps["encharge_122035013273_dc_switch"]
    assert (dc_switch["payload_on"], dc_switch["payload_off"]) == (False, True)  # inverted


def test_the_soak_checker_reads_the_key_of_every_template() -> None:
    for config in _components("7.3.466_with_cts_3phase"):
        match = PLAIN.match(config["value_template"])
        assert match
        found = _LOOKUP.search(config["value_template"])
        assert found, config["value_template"]
        phase = f".phases.{found['phase']}" if found["phase"] else ""
        assert f"{phase}.{found['key']}" == match.group(1)
