"""One vocabulary: what a control's state shows, its ``/set`` takes verbatim; numbers as numbers."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from envoy2mqtt.catalog.commands import parse_command
from envoy2mqtt.catalog.controls import CONTROLS as CONTROL_NAMES
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.naming import sanitize_topic_level
from envoy2mqtt.catalog.registry import Entity, entities
from envoy2mqtt.catalog.spec import BoolSchema, Component, EnumSchema, IntRangeSchema
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.envoy.command_types import UpdateDryContactSettings
from envoy2mqtt.envoy.updaters.tariff import SetStorageMode
from tests.catalog_helpers import fixture_names, snapshot

ALL = ControlFlags(grid_relay=True, dry_contacts=True, storage=True)
CONTROLS = (Component.SELECT, Component.SWITCH, Component.NUMBER)


@cache
def _states(name: str) -> dict[str, dict[str, Any]]:
    return state_payloads(snapshot(name))


def _state_value(name: str, entity: Entity) -> Any:
    payload = _states(name)[entity.topic]
    if entity.spec.phase is not None:
        payload = payload["phases"][entity.spec.phase]
    return payload[entity.spec.value]


# Every select, switch and number of every fixture whose state shows a value.
ENTITIES = {
    (name, e.unique_id): e
    for name in fixture_names()
    for e in entities(snapshot(name), ALL)
    if e.spec.component in CONTROLS and _state_value(name, e) is not None
}
CASES = sorted(ENTITIES)


def _entity(name: str, unique_id: str) -> Entity:
    return ENTITIES[name, unique_id]


def _recase(text: str, upper: list[bool]) -> str:
    flags = upper + [False] * len(text)
    return "".join(c.upper() if u else c for c, u in zip(text, flags[: len(text)], strict=True))


def _payloads(entity: Entity, value: Any, form: str, upper: list[bool]) -> bytes:
    """The state value sent back: as plain text, as JSON, in an envelope, or via HA's template."""
    if isinstance(value, str):
        value = _recase(value, upper)  # command words are case-insensitive
    if entity.spec.command_template is not None:  # a dry contact setting: a JSON object
        if form == "template":
            text = ImmutableSandboxedEnvironment().from_string(entity.spec.command_template)
            return text.render(value=value).encode()
        return json.dumps({entity.spec.key: value}).encode()
    if form == "plain":
        return (value if isinstance(value, str) else json.dumps(value)).encode()
    if form == "json":
        return json.dumps(value).encode()
    return json.dumps({"value": value, "transaction": "t1"}).encode()


def test_every_control_is_covered_by_the_fixtures() -> None:
    covered = {_entity(name, uid).spec.control.name for name, uid in CASES}  # type: ignore[union-attr]
    assert covered == set(CONTROL_NAMES)
    assert len(CASES) > 40


@pytest.mark.parametrize(("name", "unique_id"), CASES)
@settings(max_examples=8, deadline=None)
@given(
    form=st.sampled_from(["plain", "json", "envelope", "template"]),
    upper=st.lists(st.booleans(), max_size=20),
)
def test_a_state_value_is_accepted_verbatim_by_its_set(
    name: str, unique_id: str, form: str, upper: list[bool]
) -> None:
    snap, entity = snapshot(name), _entity(name, unique_id)
    control = entity.spec.control
    assert control is not None
    value = _state_value(name, entity)
    ident = sanitize_topic_level(entity.ident) if "{id}" in control.topic else None
    payload = _payloads(entity, value, form, upper)
    command = parse_command(snap, control.name, ident, payload, ALL).command
    _assert_unchanged(name, entity, value, command)


def _assert_unchanged(name: str, entity: Entity, value: Any, command: Any) -> None:
    """Sending back what the state shows asks the Envoy for exactly what it has."""
    schema = entity.spec.control.schema  # type: ignore[union-attr]
    payload = _states(name)[entity.topic]
    if isinstance(command, UpdateDryContactSettings):
        ((field, sent),) = command.changes.items()
        assert sent == payload.get(f"envoy_{field}", payload[field])
    elif isinstance(command, SetStorageMode):
        assert command.mode == payload["envoy_mode"]
    elif isinstance(schema, BoolSchema):
        on = next(v for k, v in vars_of(command).items() if isinstance(v, bool))
        assert on == (value == entity.spec.states[0])
    elif isinstance(schema, IntRangeSchema):
        assert vars_of(command)["value"] == value
    else:
        assert isinstance(schema, EnumSchema)


def vars_of(command: Any) -> dict[str, Any]:
    return {f: getattr(command, f) for f in command.__struct_fields__}


@pytest.mark.parametrize(
    ("word", "envoy"),
    [
        ("backup", "backup"),
        ("self_consumption", "self-consumption"),
        ("self-consumption", "self-consumption"),
        ("savings", "economy"),
        ("economy", "economy"),
    ],
)
@pytest.mark.parametrize("casing", [str.lower, str.upper, str.title])
def test_storage_mode_takes_both_vocabularies_in_any_case(
    word: str, envoy: str, casing: Any
) -> None:
    parsed = parse_command(snapshot("7.3.517"), "storage_mode", None, casing(word).encode(), ALL)
    assert parsed.command == SetStorageMode(mode=envoy)
    assert parsed.value == {"backup": "backup", "economy": "savings"}.get(envoy, "self_consumption")


@pytest.mark.parametrize(
    ("name", "mode", "envoy_mode"),
    [("7.3.517", "backup", "backup"), ("7.3.517_legacy_savings_mode", "savings", "economy")],
)
def test_storage_state_shows_the_command_word_and_the_envoy_word(
    name: str, mode: str, envoy_mode: str
) -> None:
    storage = state_payloads(snapshot(name))["storage"]
    assert (storage["mode"], storage["envoy_mode"]) == (mode, envoy_mode)


# Numeric strings allowed in state payloads: identifiers, never quantities.
IDENTIFIER_KEYS = frozenset(
    {
        "serial",  # gateway serial
        "serial_number",  # inverters, batteries, Enpower, collar, C6
        "part_number",
        "firmware",
        "firmware_version",
        "bmu_firmware_version",
        "zigbee_dongle_fw_version",
        "dmir_version",
        "generator_id",
        "id",  # dry contact id
        "load_name",  # a user-chosen label
    }
)
_NUMERIC = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def _numeric_strings(value: Any, key: str = "", path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _numeric_strings(v, k, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _numeric_strings(v, key, f"{path}[{i}]")]
    if isinstance(value, str) and _NUMERIC.match(value) and key not in IDENTIFIER_KEYS:
        return [f"{path}={value!r}"]
    return []


@pytest.mark.parametrize("name", fixture_names())
def test_numbers_are_json_numbers_in_every_state_payload(name: str) -> None:
    for topic, payload in state_payloads(snapshot(name)).items():
        assert _numeric_strings(payload) == [], topic


def test_the_numeric_string_check_catches_a_quantity() -> None:
    assert _numeric_strings({"date": "1692471808", "serial": "1234"}) == [".date='1692471808'"]
    assert _numeric_strings({"phases": {"l1": {"watts": " -1.5e3"}}}) == [
        ".phases.l1.watts=' -1.5e3'"
    ]
