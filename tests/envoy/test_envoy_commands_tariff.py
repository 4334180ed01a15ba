"""Tariff writes rebuild the Envoy's own tariff document and change only what was asked."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.models.data import EnvoyData, Tariff
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc, SetStorageMode
from tests.envoy.test_envoy_commands_support import (
    fixtures_with,
    load_data,
    load_probe,
    raw,
    recorder_and_fetcher,
)

STORAGE_FIXTURES = fixtures_with(
    "admin_lib_tariff", lambda body: bool(body.get("tariff", {}).get("storage_settings"))
)
OPT_TRUE = [
    f
    for f in STORAGE_FIXTURES
    if raw(f, "admin_lib_tariff")["tariff"]["storage_settings"].get("opt_schedules") is True
]
NO_OPT = [
    f
    for f in STORAGE_FIXTURES
    if "opt_schedules" not in raw(f, "admin_lib_tariff")["tariff"]["storage_settings"]
]

# command, storage keys it may change (besides opt_schedules for a mode change)
CHANGES: list[tuple[Any, dict[str, Any]]] = [
    (SetStorageMode(mode="economy"), {"mode": "economy"}),
    (SetStorageMode(mode="backup"), {"mode": "backup"}),
    (SetReserveSoc(value=42), {"reserved_soc": 42.0}),
    (SetChargeFromGrid(enabled=True), {"charge_from_grid": True}),
    (SetChargeFromGrid(enabled=False), {"charge_from_grid": False}),
]


def _exact(value: Any) -> str:
    """Canonical JSON text: tells 0 from 0.0 and keeps key order, so equal means identical."""
    return json.dumps(value)


def _tariff_from_capture(fixture: str) -> Tariff:
    """The tariff model decoded from the capture itself, keeping the Envoy's key order.

    ``expected.json`` stores the same values with sorted keys, so it cannot show whether
    key order survives; a real decode of the body (as the updater does) keeps it.
    """
    body = dict(raw(fixture, "admin_lib_tariff")["tariff"])
    storage = dict(body["storage_settings"])
    if storage.get("mode") == "savings-mode":
        storage["mode"] = "economy"
    body["storage_settings"] = storage
    for key in ("logger", "date", "seasons_sell"):
        body.setdefault(key, None)
    body.pop("schedule", None)
    return msgspec.convert(body, Tariff)


def _battery_data(fixture: str) -> tuple[Any, EnvoyData]:
    """Probe and data of a fixture, claiming ENCHARGE where the tariff has storage settings.

    Several fixtures carry battery storage settings without an IQ Battery in the inventory;
    the tariff document is still a real capture, which is what the round trip is about.
    """
    probe = load_probe(fixture)
    features = probe.features | type(probe.features).ENCHARGE | type(probe.features).TARIFF
    data = load_data(fixture)
    tariff = _tariff_from_capture(fixture)
    # Same values as the golden model (dict equality ignores key order).
    assert msgspec.to_builtins(tariff) == msgspec.to_builtins(data.tariff)
    data = msgspec.structs.replace(data, tariff=tariff)
    return msgspec.structs.replace(probe, features=features), data


def test_fixture_set_covers_the_interesting_firmware() -> None:
    assert "7.3.517" in STORAGE_FIXTURES
    assert "7.3.517_legacy_savings_mode" in STORAGE_FIXTURES
    assert OPT_TRUE
    assert NO_OPT
    assert len(STORAGE_FIXTURES) >= 15


@pytest.mark.parametrize("fixture", STORAGE_FIXTURES)
@pytest.mark.parametrize(("command", "changed"), CHANGES)
def test_round_trip_keeps_every_other_key(fixture: str, command: Any, changed: dict) -> None:
    probe, data = _battery_data(fixture)
    original = raw(fixture, "admin_lib_tariff")["tariff"]
    request = commands.build_request(command, probe, data)
    assert (request.method, request.path) == ("PUT", "/admin/lib/tariff")
    assert list(request.body) == ["tariff"]
    sent = request.body["tariff"]
    # The same keys in the same order as the Envoy returned them.
    assert list(sent) == list(original)
    for key in original:
        if key != "storage_settings":
            assert _exact(sent[key]) == _exact(original[key]), key
    storage, original_storage = sent["storage_settings"], original["storage_settings"]
    assert list(storage) == list(original_storage)
    expected_storage = dict(original_storage)
    # Some firmware reports an integral reserve as 20; it is always written as 20.0.
    expected_storage["reserved_soc"] = float(original_storage["reserved_soc"])
    if original_storage["mode"] == "savings-mode":
        expected_storage["mode"] = "economy"  # the legacy alias is never written back
    expected_storage.update(changed)
    if isinstance(command, SetStorageMode) and "opt_schedules" in original_storage:
        expected_storage["opt_schedules"] = False
    assert _exact(storage) == _exact(expected_storage)


def test_7_3_517_tariff_round_trip_is_byte_identical_apart_from_the_change() -> None:
    probe, data = load_probe("7.3.517"), load_data("7.3.517")
    original = raw("7.3.517", "admin_lib_tariff")["tariff"]
    request = commands.build_request(SetReserveSoc(value=100), probe, data)
    # Reserve 100 is the value already stored: the body must be the capture, byte for byte
    # (compactly encoded), without the read-only top-level schedule block.
    assert msgspec.json.encode(request.body) == msgspec.json.encode({"tariff": original})


@pytest.mark.parametrize("fixture", OPT_TRUE)
def test_mode_change_turns_optimised_schedules_off(fixture: str) -> None:
    probe, data = _battery_data(fixture)
    request = commands.build_request(SetStorageMode(mode="backup"), probe, data)
    assert request.body["tariff"]["storage_settings"]["opt_schedules"] is False
    assert request.body["tariff"]["storage_settings"]["mode"] == "backup"


@pytest.mark.parametrize("fixture", OPT_TRUE)
@pytest.mark.parametrize("command", [SetReserveSoc(value=10), SetChargeFromGrid(enabled=True)])
def test_other_writes_leave_optimised_schedules_alone(fixture: str, command: Any) -> None:
    probe, data = _battery_data(fixture)
    request = commands.build_request(command, probe, data)
    assert request.body["tariff"]["storage_settings"]["opt_schedules"] is True


@pytest.mark.parametrize("fixture", NO_OPT)
def test_old_firmware_never_gets_opt_schedules(fixture: str) -> None:
    probe, data = _battery_data(fixture)
    request = commands.build_request(SetStorageMode(mode="backup"), probe, data)
    assert "opt_schedules" not in request.body["tariff"]["storage_settings"]


def test_unknown_mode_is_sent_back_as_null_and_absent_parts_stay_absent() -> None:
    probe, data = load_probe("7.3.517"), load_data("7.3.517")
    assert data.tariff is not None
    assert data.tariff.storage_settings is not None
    tariff = msgspec.structs.replace(
        data.tariff,
        logger=None,
        date=None,
        seasons_sell=None,
        storage_settings=msgspec.structs.replace(data.tariff.storage_settings, mode=None),
    )
    data = msgspec.structs.replace(data, tariff=tariff)
    body = commands.build_request(SetChargeFromGrid(enabled=False), probe, data).body
    assert list(body["tariff"]) == ["currency", "storage_settings", "single_rate", "seasons"]
    assert body["tariff"]["storage_settings"]["mode"] is None


def test_request_body_does_not_alias_the_callers_model() -> None:
    probe, data = load_probe("7.3.517"), load_data("7.3.517")
    assert data.tariff is not None
    body = commands.build_request(SetReserveSoc(value=5), probe, data).body["tariff"]
    assert body["currency"] == data.tariff.currency
    assert body["currency"] is not data.tariff.currency
    assert body["seasons"] is not data.tariff.seasons


@pytest.mark.parametrize("value", [-1, 0, 1, 50, 99, 100, 101])
async def test_reserve_boundaries_over_the_wire(value: int) -> None:
    probe, data = load_probe("7.3.517"), load_data("7.3.517")
    async with recorder_and_fetcher() as (server, fetcher):
        try:
            await commands.execute(fetcher, SetReserveSoc(value=value), probe, data)
        except commands.EnvoyCommandRejected:
            assert not 0 <= value <= 100
            assert server.requests == []
        else:
            assert 0 <= value <= 100
            [sent] = server.requests
            assert sent.json()["tariff"]["storage_settings"]["reserved_soc"] == float(value)
