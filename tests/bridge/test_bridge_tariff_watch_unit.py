"""The decision logic of the battery-settings watch, without I/O (bridge/tariff_watch.py)."""

from __future__ import annotations

import asyncio
import dataclasses

import msgspec
import pytest

from envoy2mqtt.bridge.tariff_watch import (
    DEFAULT_OFFSETS,
    Revert,
    SettingsControl,
    TariffWatch,
    TariffWatcher,
    written_setting,
)
from envoy2mqtt.catalog.discovery import discovery_payloads
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.envoy.command_types import SetGridRelay
from envoy2mqtt.envoy.models.data import StorageSettings, Tariff
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc
from envoy2mqtt.settings import ControlSettings
from tests.catalog_helpers import render, snapshot

BASE = StorageSettings(
    mode="self-consumption",
    operation_mode_sub_type="",
    reserved_soc=43.0,
    very_low_soc=10,
    charge_from_grid=False,
    date="100",
)


def tariff(date: str = "200", storage_date: str = "100", **settings: object) -> Tariff:
    storage = msgspec.structs.replace(BASE, date=storage_date, **settings)  # type: ignore[arg-type]
    return Tariff(
        currency={}, logger=None, date=date, storage_settings=storage,
        single_rate={}, seasons=[], seasons_sell=None,
    )  # fmt: skip


def test_written_setting_maps_storage_commands_only() -> None:
    assert written_setting(SetReserveSoc(value=20)) == ("reserved_soc", 20.0)
    assert written_setting(SetChargeFromGrid(enabled=True)) == ("charge_from_grid", True)
    assert written_setting(SetGridRelay(on_grid=True)) is None


async def test_value_revert_resolves_the_write_and_sets_cloud() -> None:
    watch = TariffWatch()
    outcome = watch.begin("reserved_soc", 80.0)
    assert watch.check(tariff(reserved_soc=80.0)) == []  # integer write reads back as 80.0
    [revert] = watch.check(tariff(reserved_soc=43.0))
    assert revert == Revert("reserved_soc", 80.0, 43.0, "value")
    assert await outcome == revert
    assert watch.control is SettingsControl.CLOUD
    assert not watch.watching


async def test_new_date_with_the_written_value_is_a_revert_by_date() -> None:
    watch = TariffWatch()
    outcome = watch.begin("charge_from_grid", True)
    watch.check(tariff(charge_from_grid=True))  # baseline: our own write
    assert watch.check(tariff(charge_from_grid=True)) == []
    [revert] = watch.check(tariff(date="300", charge_from_grid=True))
    assert revert.cause == "date"
    assert (await outcome) == revert


async def test_confirming_read_of_the_write_is_the_date_baseline() -> None:
    # The cloud pushed (same value, new date) before the watch's first read.
    watch = TariffWatch()
    outcome = watch.begin("reserved_soc", 43.0, confirmed=tariff(reserved_soc=43.0))
    [revert] = watch.check(tariff(date="300", reserved_soc=43.0))
    assert (revert.cause, await outcome) == ("date", revert)


async def test_confirming_read_with_another_value_is_no_baseline() -> None:
    watch = TariffWatch()
    watch.begin("reserved_soc", 60.0, confirmed=tariff(reserved_soc=43.0))
    assert watch.check(tariff(date="300", reserved_soc=60.0)) == []  # becomes the baseline
    assert watch.watching


async def test_storage_date_alone_counts_too() -> None:
    watch = TariffWatch()
    watch.begin("mode", "backup")
    watch.check(tariff(mode="backup"))
    [revert] = watch.check(tariff(mode="backup", storage_date="999"))
    assert revert.cause == "date"


async def test_no_baseline_until_a_read_shows_the_written_value() -> None:
    # The re-read right after the write failed: the first watch read still shows the old
    # value with the old date; a later read with the new value and a date the Envoy
    # stamped on our own write is the baseline, not a revert.
    watch = TariffWatch()
    outcome = watch.begin("reserved_soc", 60.0)
    assert watch.check(tariff(date="250", reserved_soc=60.0)) == []
    assert watch.check(tariff(date="250", reserved_soc=60.0)) == []
    watch.finish(verified=True)
    assert await outcome is None
    assert watch.control is SettingsControl.LOCAL


async def test_second_write_of_the_same_setting_supersedes_the_first() -> None:
    watch = TariffWatch()
    first = watch.begin("reserved_soc", 80.0)
    second = watch.begin("reserved_soc", 60.0)
    assert await first is None  # replaced by the user, nothing to report
    assert watch.check(tariff(reserved_soc=60.0)) == []
    watch.finish(verified=True)
    assert await second is None
    assert watch.control is SettingsControl.LOCAL


async def test_writes_of_two_settings_are_both_watched() -> None:
    watch = TariffWatch()
    mode = watch.begin("mode", "backup")
    reserve = watch.begin("reserved_soc", 50.0)
    [revert] = watch.check(tariff(mode="backup", reserved_soc=43.0))
    assert revert.setting == "reserved_soc"
    assert watch.watching
    assert (await reserve) == revert
    watch.finish(verified=True)
    assert await mode is None
    assert watch.control is SettingsControl.CLOUD  # a revert in this window: not local


async def test_unverified_window_concludes_nothing() -> None:
    watch = TariffWatch()
    outcome = watch.begin("reserved_soc", 80.0)
    watch.finish(verified=False)
    assert await outcome is None
    assert watch.control is SettingsControl.UNKNOWN


async def test_read_in_flight_during_a_newer_write_is_not_checked() -> None:
    shown = {"reserve": 80.0}
    reading, release, returned = asyncio.Event(), asyncio.Event(), asyncio.Event()
    published: list[SettingsControl] = []

    async def read() -> Tariff:
        reading.set()
        await release.wait()
        returned.set()  # the watcher checks (or discards) this read before anyone else runs
        return tariff(reserved_soc=shown["reserve"])

    watcher = TariffWatcher(read, lambda: _record(published, watcher), offsets=[0.01, 0.02])
    first = watcher.begin(SetReserveSoc(value=80))
    assert first is not None
    await reading.wait()
    with watcher.writing():  # the second write is applied while the first read is pending
        shown["reserve"] = 60.0
        release.set()
        await returned.wait()
    second = watcher.begin(SetReserveSoc(value=60))
    assert second is not None
    assert await first is None  # superseded, never "reverted" with 60
    assert await second is None
    assert watcher.control is SettingsControl.LOCAL
    assert published[-1] is SettingsControl.LOCAL
    await watcher.stop()


async def _record(published: list[SettingsControl], watcher: TariffWatcher) -> None:
    published.append(watcher.control)


async def test_empty_offsets_turn_the_watch_off() -> None:
    async def never() -> Tariff:
        raise AssertionError("no read without a window")

    async def nothing() -> None:
        return None

    watcher = TariffWatcher(never, nothing, offsets=[])
    assert watcher.begin(SetReserveSoc(value=20)) is None
    assert watcher.control is SettingsControl.UNKNOWN


@pytest.mark.parametrize("control", ["unknown", "cloud", "local"])
def test_battery_settings_control_entity_reads_the_storage_payload(control: str) -> None:
    snap = dataclasses.replace(snapshot("8.2.4345_with_device_data"), settings_control=control)
    gateway = next(
        config
        for topic, config in discovery_payloads(snap).items()
        if topic.endswith(f"/envoy2mqtt_{snap.serial}/config")
    )
    entity = gateway["cmps"]["battery_settings_control"]
    assert entity["name"] == "Battery settings control"
    assert entity["state_topic"] == f"envoy2mqtt/{snap.serial}/storage"
    assert (entity["device_class"], entity["entity_category"]) == ("enum", "diagnostic")
    assert entity["options"] == ["local", "cloud", "unknown"]
    storage = state_payloads(snap)["storage"]
    assert storage["settings_control"] == control
    assert render(entity["value_template"], storage) == control


def test_no_entity_without_storage_settings() -> None:
    snap = snapshot("4.10.35")
    assert "storage" not in state_payloads(snap)
    configs = discovery_payloads(snap).values()
    assert not any("battery_settings_control" in c.get("cmps", {}) for c in configs)


def test_config_default_offsets_are_the_watchers() -> None:
    assert tuple(ControlSettings().storage_watch) == DEFAULT_OFFSETS
