"""Invalid values and missing features are rejected with a clear error and ZERO requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.command_types import SetDryContact, SetGridRelay, UpdateDryContactSettings
from envoy2mqtt.envoy.errors import EnvoyCommandRejected, EnvoyFeatureNotAvailable
from envoy2mqtt.envoy.features import SupportedFeatures as F
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc, SetStorageMode
from tests.envoy.test_envoy_commands_support import (
    Probe,
    assert_nothing_sent,
    load_data,
    load_probe,
    recorder_and_fetcher,
)

FIXTURE = "7.3.517"
ALL = load_probe(FIXTURE).features
NAN = float("nan")
INF = float("inf")


def _without(flag: F) -> Probe:
    return Probe(features=ALL & ~flag)


def _no_tariff(data: EnvoyData) -> EnvoyData:
    return msgspec.structs.replace(data, tariff=None)


def _no_storage(data: EnvoyData) -> EnvoyData:
    assert data.tariff is not None
    return msgspec.structs.replace(
        data, tariff=msgspec.structs.replace(data.tariff, storage_settings=None)
    )


def _no_relays(data: EnvoyData) -> EnvoyData:
    return msgspec.structs.replace(data, dry_contact_status={}, dry_contact_settings={})


def _settings(**changes: Any) -> UpdateDryContactSettings:
    return UpdateDryContactSettings(id="NC1", changes=changes)


TARIFF_COMMANDS = [
    SetStorageMode(mode="backup"),
    SetReserveSoc(value=20),
    SetChargeFromGrid(enabled=True),
]
ENPOWER_COMMANDS = [
    SetGridRelay(on_grid=True),
    SetDryContact(id="NC1", closed=True),
    _settings(load_name="x"),
]

# (command, probe, data transform, message fragment)
MISSING: list[tuple[Any, Probe, Callable[[EnvoyData], EnvoyData] | None, str]] = [
    *[(c, _without(F.ENPOWER), None, "needs ENPOWER") for c in ENPOWER_COMMANDS],
    *[(c, _without(F.ENCHARGE), None, "needs ENCHARGE") for c in TARIFF_COMMANDS],
    *[(c, _without(F.TARIFF), None, "needs TARIFF") for c in TARIFF_COMMANDS],
    *[(c, Probe(features=F(0)), None, "needs ENCHARGE, TARIFF") for c in TARIFF_COMMANDS],
    *[(c, load_probe(FIXTURE), _no_tariff, "no battery storage") for c in TARIFF_COMMANDS],
    *[(c, load_probe(FIXTURE), _no_storage, "no battery storage") for c in TARIFF_COMMANDS],
]

INVALID: list[tuple[Any, str]] = [
    (SetGridRelay(on_grid="yes"), "on_grid must be a boolean"),
    (SetGridRelay(on_grid=1), "on_grid must be a boolean"),
    (SetGridRelay(on_grid=None), "on_grid must be a boolean"),
    (SetDryContact(id="XX9", closed=True), 'unknown dry contact id "XX9"'),
    (SetDryContact(id="nc1", closed=True), 'unknown dry contact id "nc1"'),
    (SetDryContact(id=None, closed=True), "unknown dry contact id null"),
    (SetDryContact(id="NC1", closed="true"), "closed must be a boolean"),
    (SetDryContact(id="NC1", closed=0), "closed must be a boolean"),
    (UpdateDryContactSettings(id="ZZ", changes={"mode": "soc"}), "unknown dry contact id"),
    (UpdateDryContactSettings(id="NC1", changes={}), "no settings to change"),
    (UpdateDryContactSettings(id="NC1", changes=["mode"]), "no settings to change"),
    (_settings(type="PV"), "cannot change type"),
    (_settings(id="NC2"), "cannot change id"),
    (_settings(gen_action="apply"), "cannot change gen_action"),
    (_settings(black_start=1.0), "cannot change black_start"),
    (_settings(pv_serial_nb=["1"]), "cannot change pv_serial_nb"),
    (_settings(priority=2.0, mode="soc"), "cannot change priority"),
    (_settings(grid_action="APPLY"), "grid_action must be one of apply|none|schedule|shed"),
    (_settings(grid_action="on"), "grid_action must be one of"),
    (_settings(micro_grid_action=None), "micro_grid_action must be one of"),
    (_settings(generator_action=1), "generator_action must be one of"),
    (_settings(mode="auto"), "mode must be one of manual|soc"),
    (_settings(mode=["soc"]), "mode must be one of manual|soc"),
    (_settings(override="true"), "override must be a boolean"),
    (_settings(override=1), "override must be a boolean"),
    (_settings(manual_override="false"), "manual_override must be a boolean"),
    (_settings(soc_low=-1), "soc_low must be a number 0-100"),
    (_settings(soc_low=-0.01), "soc_low must be a number 0-100"),
    (_settings(soc_high=100.5), "soc_high must be a number 0-100"),
    (_settings(soc_high=10**400), "soc_high must be a number 0-100"),
    (_settings(soc_low=NAN), "soc_low must be a number 0-100"),
    (_settings(soc_high=INF), "soc_high must be a number 0-100"),
    (_settings(soc_low=True), "soc_low must be a number 0-100"),
    (_settings(soc_low="30"), "soc_low must be a number 0-100"),
    (_settings(soc_low=None), "soc_low must be a number 0-100"),
    (_settings(soc_low=70), "soc_low (70) must be below soc_high (70)"),
    (_settings(soc_high=25), "soc_low (25) must be below soc_high (25)"),
    (_settings(soc_low=80, soc_high=20), "soc_low (80) must be below soc_high (20)"),
    (_settings(load_name="x" * 65), "load_name must be printable text of at most 64"),
    (_settings(load_name="a\nb"), "load_name must be printable text"),
    (_settings(load_name="\x7f"), "load_name must be printable text"),
    (_settings(load_name=123), "load_name must be printable text"),
    (_settings(load_name=None), "load_name must be printable text"),
    (SetStorageMode(mode="savings-mode"), "storage mode must be one of"),
    (SetStorageMode(mode="savings"), "storage mode must be one of"),
    (SetStorageMode(mode="Backup"), "storage mode must be one of"),
    (SetStorageMode(mode=None), "storage mode must be one of"),
    (SetReserveSoc(value=-1), "battery reserve must be an integer 0-100"),
    (SetReserveSoc(value=101), "battery reserve must be an integer 0-100"),
    (SetReserveSoc(value=50.5), "battery reserve must be an integer 0-100"),
    (SetReserveSoc(value=True), "battery reserve must be an integer 0-100"),
    (SetReserveSoc(value="50"), "battery reserve must be an integer 0-100"),
    (SetReserveSoc(value=None), "battery reserve must be an integer 0-100"),
    (SetChargeFromGrid(enabled="true"), "enabled must be a boolean"),
    (SetChargeFromGrid(enabled=1), "enabled must be a boolean"),
    (SetChargeFromGrid(enabled=None), "enabled must be a boolean"),
]


async def _assert_rejected(
    command: Any, probe: Probe, data: EnvoyData, error: type[Exception], fragment: str
) -> None:
    before = msgspec.to_builtins(data)
    with pytest.raises(error) as from_validate:
        commands.validate(command, probe, data)
    assert fragment in str(from_validate.value)
    async with recorder_and_fetcher() as (server, fetcher):
        with pytest.raises(error) as from_execute:
            await commands.execute(fetcher, command, probe, data)
        assert str(from_execute.value) == str(from_validate.value)
        await assert_nothing_sent(server, fetcher)
    assert msgspec.to_builtins(data) == before


@pytest.mark.parametrize(("command", "probe", "transform", "fragment"), MISSING)
async def test_missing_feature_sends_nothing(command, probe, transform, fragment) -> None:
    data = load_data(FIXTURE)
    if transform is not None:
        data = transform(data)
    await _assert_rejected(command, probe, data, EnvoyFeatureNotAvailable, fragment)


@pytest.mark.parametrize(("command", "fragment"), INVALID)
async def test_invalid_value_sends_nothing(command, fragment) -> None:
    await _assert_rejected(
        command, load_probe(FIXTURE), load_data(FIXTURE), EnvoyCommandRejected, fragment
    )


@pytest.mark.parametrize(
    "command",
    [SetDryContact(id="NC1", closed=True), _settings(mode="soc")],
)
async def test_envoy_without_relays_rejects_relay_commands(command) -> None:
    await _assert_rejected(
        command,
        load_probe(FIXTURE),
        _no_relays(load_data(FIXTURE)),
        EnvoyCommandRejected,
        "(known: none)",
    )


async def test_unknown_command_type_is_rejected() -> None:
    class Reboot(msgspec.Struct):
        now: bool = True

    await _assert_rejected(
        Reboot(),
        load_probe(FIXTURE),
        load_data(FIXTURE),
        EnvoyCommandRejected,
        "unsupported command Reboot",
    )


def test_error_messages_name_the_relay_and_allowed_keys() -> None:
    with pytest.raises(EnvoyCommandRejected) as info:
        commands.validate(_settings(colour="red"), load_probe(FIXTURE), load_data(FIXTURE))
    assert str(info.value) == (
        "dry contact NC1: cannot change colour (allowed: generator_action, grid_action, "
        "load_name, manual_override, micro_grid_action, mode, override, soc_high, soc_low)"
    )


def test_valid_commands_pass_validation() -> None:
    probe, data = load_probe(FIXTURE), load_data(FIXTURE)
    for command in [
        *ENPOWER_COMMANDS,
        *TARIFF_COMMANDS,
        SetStorageMode(mode="economy"),
        SetReserveSoc(value=0),
        SetReserveSoc(value=100),
        _settings(soc_low=0, soc_high=100),
        _settings(load_name="x" * 64, override=True, manual_override=False),
        _settings(load_name="Pompe à chaleur ☀"),
    ]:
        commands.validate(command, probe, data)
