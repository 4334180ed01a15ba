"""parse_command: every /set payload becomes a valid command or a clear CommandError."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envoy2mqtt.catalog.commands import (
    CommandError,
    ParsedCommand,
    parse_command,
)
from envoy2mqtt.catalog.controls import CONTROLS, ControlFlags
from envoy2mqtt.envoy import commands as envoy_commands
from envoy2mqtt.envoy.command_types import SetDryContact, SetGridRelay, UpdateDryContactSettings
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc, SetStorageMode
from tests.catalog_helpers import snapshot

ALL = ControlFlags(grid_relay=True, dry_contacts=True, storage=True)
BATTERY_SITE = "7.3.517"


@dataclass
class _Probe:
    features: SupportedFeatures


def _parse(
    payload: bytes | str, control: str, ident: str | None = None, **kw: Any
) -> ParsedCommand:
    raw = payload.encode() if isinstance(payload, str) else payload
    snap = snapshot(kw.pop("fixture", BATTERY_SITE))
    return parse_command(snap, control, ident, raw, kw.pop("controls", ALL))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("ON", True), ("on", True), ("true", True), ("TRUE", True), ("1", True),
        ("OFF", False), ("Off", False), ("false", False), ("0", False),
        ('"ON"', True), ('{"value": "OFF"}', False), ('{"value": true}', True), (" ON\n", True),
    ],
)  # fmt: skip
def test_booleans(payload: str, expected: bool) -> None:
    assert _parse(payload, "grid_relay").command == SetGridRelay(on_grid=expected)
    assert _parse(payload, "charge_from_grid").command == SetChargeFromGrid(enabled=expected)
    result = _parse(payload, "dry_contacts", "nc1")
    assert result.command == SetDryContact(id="NC1", closed=expected)
    assert result.value == ("ON" if expected else "OFF")


@pytest.mark.parametrize(
    ("payload", "mode", "echo"),
    [
        ("backup", "backup", "backup"),
        ("self_consumption", "self-consumption", "self_consumption"),
        ("savings", "economy", "savings"),
        ("economy", "economy", "savings"),  # the Envoy's own name works too
        ('{"value": "Self-Consumption"}', "self-consumption", "self_consumption"),
    ],
)
def test_storage_mode(payload: str, mode: str, echo: str) -> None:
    result = _parse(payload, "storage_mode")
    assert result.command == SetStorageMode(mode=mode)  # type: ignore[arg-type]
    assert result.value == echo


@pytest.mark.parametrize(
    ("payload", "value"), [("0", 0), ("100", 100), ("20.0", 20), ('{"value": 55}', 55)]
)
def test_reserve_soc(payload: str, value: int) -> None:
    assert _parse(payload, "reserve_soc").command == SetReserveSoc(value=value)


def test_transaction_is_echoed_on_success_and_on_error() -> None:
    result = _parse('{"value": 30, "transaction": "abc-1"}', "reserve_soc")
    assert (result.value, result.transaction) == (30, "abc-1")
    with pytest.raises(CommandError) as err:
        _parse('{"value": 300, "transaction": 7}', "reserve_soc")
    assert err.value.transaction == 7


def test_relay_settings_map_ha_names_to_envoy_names() -> None:
    payload = {
        "mode": "battery",
        "grid_action": "not_powered",
        "microgrid_action": "powered",
        "generator_action": "schedule",
        "soc_low": 20,
        "soc_high": 80,
        "load_name": "Pool pump",
        "override": "ON",
        "transaction": 9,
    }
    result = _parse(json.dumps(payload), "dry_contact_settings", "nc1")
    assert result.command == UpdateDryContactSettings(
        id="NC1",
        changes={
            "mode": "soc",
            "grid_action": "shed",
            "micro_grid_action": "apply",
            "generator_action": "schedule",
            "soc_low": 20,
            "soc_high": 80,
            "load_name": "Pool pump",
            "override": True,
        },
    )
    assert result.transaction == 9
    # the result echoes the change as the relay's state shows it (field names, command words)
    assert result.value == {
        "mode": "battery",
        "grid_action": "not_powered",
        "micro_grid_action": "powered",
        "generator_action": "schedule",
        "soc_low": 20,
        "soc_high": 80,
        "load_name": "Pool pump",
        "override": True,
    }
    # Envoy names and a value envelope.
    result = _parse(
        '{"value": {"mode": "manual", "grid_action": "apply"}}', "dry_contact_settings", "NC1"
    )
    assert result.command == UpdateDryContactSettings(
        id="NC1", changes={"mode": "manual", "grid_action": "apply"}
    )
    assert result.value == {"mode": "standard", "grid_action": "powered"}


@pytest.mark.parametrize(
    ("control", "ident", "payload", "message"),
    [
        ("reserve_soc", None, "{bad json", "malformed JSON"),
        ("reserve_soc", None, "[1, 2", "malformed JSON"),
        ("reserve_soc", None, "[50]", "must be a number"),
        ("reserve_soc", None, "true", "must be a number"),
        ("reserve_soc", None, "NaN", "NaN"),
        ("reserve_soc", None, '{"value": Infinity}', "Infinity"),
        ("reserve_soc", None, "1e999", "finite"),
        ("reserve_soc", None, "-1", "between 0 and 100"),
        ("reserve_soc", None, "101", "between 0 and 100"),
        ("reserve_soc", None, "20.5", "must be an integer"),
        ("reserve_soc", None, '{"value": 20, "extra": 1}', "unknown keys extra"),
        ("reserve_soc", None, '{"transaction": 1}', "no 'value'"),
        ("reserve_soc", None, "", "empty payload"),
        ("storage_mode", None, "turbo", "must be one of backup|self_consumption|savings"),
        ("storage_mode", None, "5", "must be one of"),
        ("grid_relay", None, "maybe", "expected ON/OFF"),
        ("grid_relay", None, "2", "expected ON/OFF"),
        ("grid_relay", "x", "ON", "takes no id"),
        ("dry_contacts", "nc9", "ON", 'unknown dry contact id "nc9" (known: nc1, nc2, no1, no2)'),
        ("dry_contacts", None, "ON", "id is required"),
        *[
            ("dry_contact_settings", "nc1", payload, message)
            for payload, message in [
                ('{"colour": "red"}', "unknown settings colour"),
                ("{}", "no settings"),
                ('"manual"', "must be a JSON object"),
                ('{"mode": "turbo"}', "mode must be one of standard|battery"),
                ('{"grid_action": "on"}', "grid_action must be one of"),
                ('{"soc_low": 101}', "soc_low must be between 0 and 100"),
                ('{"soc_low": true}', "soc_low must be a number"),
                ('{"soc_low": 80}', "soc_low (80) must be below soc_high (70)"),
                ('{"soc_low": 50, "soc_high": 40}', "must be below"),
                (json.dumps({"load_name": "x" * 65}), "at most 64"),
                ('{"load_name": "a\\nb"}', "control characters"),
                ('{"override": "sometimes"}', "expected ON/OFF"),
            ]
        ],
        ("fly", None, "ON", 'unknown control "fly"'),
    ],
)
def test_invalid_input_is_rejected_with_a_clear_message(
    control: str, ident: str | None, payload: str, message: str
) -> None:
    with pytest.raises(CommandError) as err:
        _parse(payload, control, ident)
    assert message in err.value.message
    assert str(err.value) == err.value.message


@pytest.mark.parametrize(
    ("control", "payload", "shown"),
    [
        ("reserve_soc", '{"value": true}', "got true"),
        ("reserve_soc", '{"value": null}', "got null"),
        ("reserve_soc", '{"value": [1, 2.5]}', "got [1, 2.5]"),
        ("reserve_soc", "soon", 'got "soon"'),
        ("storage_mode", '{"value": false}', "got false"),
        ("storage_mode", '{"value": {"a": null}}', 'got {"a": null}'),
        ("charge_from_grid", '{"value": null}', "got null"),
        ("charge_from_grid", '"maybe"', 'got "maybe"'),
    ],
)
def test_rejected_values_are_named_in_json_terms(control: str, payload: str, shown: str) -> None:
    with pytest.raises(CommandError) as err:
        _parse(payload, control)
    assert err.value.message.endswith(shown), err.value.message
    for python in ("True", "False", "None", "'"):
        assert python not in err.value.message


def test_oversize_and_binary_payloads() -> None:
    with pytest.raises(CommandError, match="payload too large"):
        _parse(b"1" * 4097, "reserve_soc")
    with pytest.raises(CommandError, match="not valid UTF-8"):
        _parse(b"\xff\xfe", "grid_relay")
    assert _parse(b" " * 4000 + b"42", "reserve_soc").command == SetReserveSoc(value=42)


def test_disabled_controls_are_refused() -> None:
    default = ControlFlags()
    for control, ident in (
        ("grid_relay", None),
        ("dry_contacts", "nc1"),
        ("dry_contact_settings", "nc1"),
    ):
        with pytest.raises(CommandError, match="disabled by configuration"):
            _parse("ON", control, ident, controls=default)
    with pytest.raises(CommandError, match=r"controls\.storage"):
        _parse("20", "reserve_soc", controls=ControlFlags(storage=False))


@pytest.mark.parametrize(
    "control", ["grid_relay", "storage_mode", "reserve_soc", "charge_from_grid"]
)
def test_missing_features_are_refused(control: str) -> None:
    with pytest.raises(CommandError, match="not available on this Envoy"):
        _parse("backup" if control == "storage_mode" else "1", control, fixture="3.17.3")


def test_dry_contacts_need_an_enpower_and_known_ids() -> None:
    with pytest.raises(CommandError, match="unknown dry contact id"):
        _parse("ON", "dry_contacts", "nc1", fixture="3.17.3")


# --- fuzzing --------------------------------------------------------------------------------

_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=70), st.sampled_from(["ON", "off", "backup", "savings", "battery", "powered",
                                           "apply", "manual", "soc", "schedule"]),
)  # fmt: skip
_keys = st.sampled_from(
    ["value", "transaction", "mode", "grid_action", "microgrid_action", "micro_grid_action",
     "generator_action", "soc_low", "soc_high", "load_name", "override", "manual_override", "x"]
)  # fmt: skip
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=12,
)


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


_payloads = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    _json.map(_dump),
    st.sampled_from([b"ON", b"OFF", b"true", b"1", b"0", b"50", b"101", b"self_consumption"]),
)
_controls = st.sampled_from([*CONTROLS, "dry_contacts", "bogus", ""])
_idents = st.one_of(
    st.none(),
    st.sampled_from(["nc1", "NC1", "no2", "nc9", ""]),
    st.text(max_size=8),
)
_flags = st.builds(
    ControlFlags, grid_relay=st.booleans(), dry_contacts=st.booleans(), storage=st.booleans()
)
_sites = st.sampled_from(["7.3.517", "3.17.3", "8.2.4382_ACB", "8.3.5169_with_generator"])


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=_sites, control=_controls, ident=_idents, payload=_payloads, flags=_flags)
def test_fuzz_only_command_error_and_only_valid_commands(
    site: str, control: str, ident: str | None, payload: bytes, flags: ControlFlags
) -> None:
    snap = snapshot(site)
    try:
        result = parse_command(snap, control, ident, payload, flags)
    except CommandError as err:
        message = err.message
        result = None
    if result is None:
        assert message
        return
    spec = CONTROLS[control]
    assert flags.enabled(spec.flag)
    assert len(payload) <= 4096
    # The Envoy side's own validation must agree that the command is acceptable.
    envoy_commands.validate(result.command, _Probe(snap.features), snap.data)
    json.dumps(result.value, allow_nan=False)  # the echo is valid JSON


def test_error_messages_do_not_reflect_long_input() -> None:
    with pytest.raises(CommandError) as err:
        _parse("ON", "dry_contacts", "z" * 500)
    assert len(err.value.message) < 160
    with pytest.raises(CommandError) as err:
        _parse("ON", "q" * 500)
    assert "q" * 50 not in err.value.message
