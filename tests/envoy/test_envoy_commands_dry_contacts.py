"""Dry-contact settings: wire encoding matches the Envoy's captures; random changes are safe."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.command_types import SetGridRelay, UpdateDryContactSettings
from envoy2mqtt.envoy.commands_dry_contacts import encode_settings
from envoy2mqtt.envoy.errors import EnvoyCommandRejected
from envoy2mqtt.envoy.models.data import DryContactSettings, EnvoyData
from envoy2mqtt.envoy.models.raw_dry_contacts import wire_relay
from envoy2mqtt.envoy.updaters.dry_contacts import settings_from_body
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc, SetStorageMode
from tests.envoy.test_envoy_commands_support import (
    FIXTURES,
    ClientFetcher,
    RecordingServer,
    fixtures_with,
    load_data,
    load_probe,
    raw,
    recorder_and_fetcher,
)

FIXTURE = "7.3.517"
RELAY_FIXTURES = fixtures_with(
    "ivp_ss_dry_contact_settings", lambda body: bool(body.get("dry_contacts"))
)
# Keys newer firmware (8.3.1598) reports that the data model does not hold: they must still
# be sent back unchanged (the Envoy needs the whole relay object).
UNMODELLED = {"safe_state_action", "black_start_retries", "action_retries", "pv_phase_select"}
EXTRA_FIXTURE = "8.3.1598_collar"

ACTIONS = ("apply", "shed", "schedule", "none")
WIRE_NAME = {"generator_action": "gen_action"}


def _raw_relays(fixture: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in raw(fixture, "ivp_ss_dry_contact_settings")["dry_contacts"]}


def _flag(text: str | None) -> bool | None:
    return None if text is None else text == "true"


def _decode(relay: dict[str, Any]) -> DryContactSettings:
    """Decode one captured relay object the way the updater does (golden-checked below)."""
    return DryContactSettings(
        id=relay["id"],
        black_start=relay.get("black_s_start"),
        essential_end_time=relay.get("essential_end_time"),
        essential_start_time=relay.get("essential_start_time"),
        generator_action=relay["gen_action"],
        grid_action=relay["grid_action"],
        load_name=relay["load_name"],
        manual_override=_flag(relay.get("manual_override")),
        micro_grid_action=relay["micro_grid_action"],
        mode=relay["mode"],
        override=relay["override"] == "true",
        priority=relay.get("priority"),
        pv_serial_nb=relay["pv_serial_nb"],
        soc_high=relay["soc_high"],
        soc_low=relay["soc_low"],
        type=relay["type"],
    )


def _settings_from_capture(fixture: str) -> dict[str, DryContactSettings]:
    """The relays as the real updater reads them, checked against the golden and ``_decode``."""
    body = (FIXTURES / fixture / "ivp_ss_dry_contact_settings").read_bytes()
    decoded = settings_from_body(body)
    assert decoded == {i: _decode(r) for i, r in _raw_relays(fixture).items()}
    golden = load_data(fixture).dry_contact_settings
    if golden:  # pyenphase only reports relays on Enpower systems
        assert decoded == golden
    return decoded


def test_relay_fixture_set_is_broad() -> None:
    assert len(RELAY_FIXTURES) >= 15
    assert {"7.3.517", "8.3.1598_collar", "7.6.175", "8.2.127_with_3cts_and_battery_split"} <= set(
        RELAY_FIXTURES
    )
    assert sum(bool(load_data(f).dry_contact_settings) for f in RELAY_FIXTURES) >= 5


@pytest.mark.parametrize("fixture", RELAY_FIXTURES)
def test_encoding_reproduces_the_captured_relay_objects(fixture: str) -> None:
    captured = _raw_relays(fixture)
    for relay_id, settings_ in _settings_from_capture(fixture).items():
        encoded = encode_settings(settings_)
        original = captured[relay_id]
        # Every key, unknown ones included; values identical (8.2.127 reports 30 where the
        # model holds 30.0: equal numbers); the Envoy's own key order (7.6.175 sorts keys).
        assert encoded == original, relay_id
        assert list(encoded) == list(original), relay_id


def test_newer_firmware_relay_keys_are_captured_and_preserved() -> None:
    captured = _raw_relays(EXTRA_FIXTURE)
    assert captured
    for relay_id, settings_ in _settings_from_capture(EXTRA_FIXTURE).items():
        assert set(captured[relay_id]) >= UNMODELLED
        encoded = encode_settings(settings_)
        assert {k: encoded[k] for k in UNMODELLED} == {k: captured[relay_id][k] for k in UNMODELLED}
        # The private document is neither exported nor part of equality.
        assert not set(msgspec.to_builtins(settings_)) & UNMODELLED


async def test_settings_write_sends_unknown_keys_back_unchanged() -> None:
    data = EnvoyData(dry_contact_settings=_settings_from_capture(EXTRA_FIXTURE))
    before = copy.deepcopy(_raw_relays(EXTRA_FIXTURE)["NC1"])
    command = UpdateDryContactSettings(id="NC1", changes={"soc_low": 25, "load_name": "pump"})
    async with recorder_and_fetcher() as (server, fetcher):
        groups = await commands.execute(fetcher, command, load_probe(FIXTURE), data)
    assert groups == {"dry_contacts"}
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/ivp/ss/dry_contact_settings")
    relay = sent.json()["dry_contacts"]
    assert relay == {**before, "soc_low": 25.0, "load_name": "pump"}
    assert list(relay) == list(before)


def test_optional_keys_are_absent_when_unknown() -> None:
    # Settings not read from an Envoy (here: from an export) encode only the modelled keys.
    relay = _decode(_raw_relays("7.6.175")["NC1"])
    assert wire_relay(relay) is None
    encoded = encode_settings(relay)
    for key in ("black_s_start", "essential_start_time", "essential_end_time", "priority"):
        assert key not in encoded
    assert "manual_override" not in encoded
    assert encoded["override"] == "false"


# ---------------------------------------------------------------- property: never unless valid

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    **{
        key: st.sampled_from([*ACTIONS, "APPLY", "on", ""]) | JUNK
        for key in ("grid_action", "micro_grid_action", "generator_action")
    },
    "mode": st.sampled_from(["manual", "soc", "auto", "SOC"]) | JUNK,
    "override": st.booleans() | JUNK,
    "manual_override": st.booleans() | JUNK,
    "soc_low": st.floats(-10, 110) | st.integers(-10, 110) | JUNK,
    "soc_high": st.floats(-10, 110) | st.integers(-10, 110) | JUNK,
    "load_name": st.text(max_size=70) | JUNK,
    **dict.fromkeys(
        ("type", "id", "gen_action", "priority", "black_start", "pv_serial_nb", "x"), JUNK
    ),
}
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CHANGES = st.lists(
    st.sampled_from(sorted(VALUES)).flatmap(lambda k: st.tuples(st.just(k), VALUES[k])),
    max_size=5,
).map(dict)


def _valid_value(key: str, value: Any) -> bool:
    """Independent statement of the rules (not the implementation's code)."""
    if key in ("grid_action", "micro_grid_action", "generator_action"):
        return type(value) is str and value in ACTIONS
    if key == "mode":
        return value in ("manual", "soc") and type(value) is str
    if key in ("override", "manual_override"):
        return type(value) is bool
    if key in ("soc_low", "soc_high"):
        return type(value) in (int, float) and value == value and 0 <= value <= 100
    if key == "load_name":
        return type(value) is str and len(value) <= 64 and value.isprintable()
    return False


def _expected_body(relay_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    """The body the Envoy must receive, or None if the change must be rejected."""
    if not changes or not all(_valid_value(k, v) for k, v in changes.items()):
        return None
    relay = copy.deepcopy(_raw_relays(FIXTURE)[relay_id])
    for key, value in changes.items():
        if type(value) is bool:
            wire: Any = "true" if value else "false"
        elif key.startswith("soc_"):
            wire = float(value)
        else:
            wire = value
        relay[WIRE_NAME.get(key, key)] = wire
    if not relay["soc_low"] < relay["soc_high"]:
        return None
    return {"dry_contacts": relay}


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[asyncio.Runner, RecordingServer, ClientFetcher]]:
    """One recording server for all hypothesis examples (sync test, own event loop)."""
    with asyncio.Runner() as runner:
        context = recorder_and_fetcher()
        server, fetcher = runner.run(context.__aenter__())
        try:
            yield runner, server, fetcher
        finally:
            runner.run(context.__aexit__(None, None, None))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(relay_id=st.sampled_from(["NC1", "NC2", "NO1", "NO2"]), changes=CHANGES)
def test_random_settings_never_send_unless_valid(live, relay_id: str, changes: dict) -> None:
    runner, server, fetcher = live
    server.requests.clear()
    data = load_data(FIXTURE)
    expected = _expected_body(relay_id, changes)
    command = UpdateDryContactSettings(id=relay_id, changes=changes)
    if expected is None:
        with pytest.raises(EnvoyCommandRejected, match=f"^dry contact {relay_id}: "):
            runner.run(commands.execute(fetcher, command, load_probe(FIXTURE), data))
        assert server.requests == []
        return
    groups = runner.run(commands.execute(fetcher, command, load_probe(FIXTURE), data))
    assert groups == {"dry_contacts"}
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/ivp/ss/dry_contact_settings")
    assert sent.json() == expected
    assert list(sent.json()["dry_contacts"]) == list(expected["dry_contacts"])  # key order
    # The model the caller holds still shows the pre-write settings.
    assert data.dry_contact_settings[relay_id] == load_data(FIXTURE).dry_contact_settings[relay_id]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=JUNK | st.integers(-5, 105),
    kind=st.sampled_from(["reserve", "mode", "charge", "relay"]),
)
def test_random_scalar_values_never_send_unless_valid(live, value: Any, kind: str) -> None:
    runner, server, fetcher = live
    server.requests.clear()
    command, valid = {
        "reserve": (SetReserveSoc(value=value), type(value) is int and 0 <= value <= 100),
        "mode": (SetStorageMode(mode=value), value in ("backup", "self-consumption", "economy")),
        "charge": (SetChargeFromGrid(enabled=value), type(value) is bool),
        "relay": (SetGridRelay(on_grid=value), type(value) is bool),
    }[kind]
    try:
        runner.run(commands.execute(fetcher, command, load_probe(FIXTURE), load_data(FIXTURE)))
    except EnvoyCommandRejected:
        assert not valid
        assert server.requests == []
    else:
        assert valid
        assert len(server.requests) == 1
