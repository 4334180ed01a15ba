"""docs/architecture.md's entity trace and worked examples are true to the code."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import msgspec
import pytest

from envoy2mqtt.bridge import tariff_watch
from envoy2mqtt.catalog import registry, storage
from envoy2mqtt.catalog.discovery import DiscoveryOptions, discovery_payloads
from envoy2mqtt.catalog.spec import Category, Component
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.catalog.state_topics import check_row_key, state_topic_of
from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.models.data import StorageSettings
from envoy2mqtt.envoy.updaters.tariff import STORAGE_SETTING_COMMANDS, StorageSettingCommand
from tests.catalog_helpers import render, snapshot

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()
_ROW = re.compile(r"^\| (\d+) \| [^|]+ \| `(envoy2mqtt/[^`]+)` \| `([^`]+)` \|", re.M)
_TRACE = DOC.split("## The life of one entity", 1)[1].split("\n## ", 1)[0]
ROWS = [(int(n), path, symbol) for n, path, symbol in _ROW.findall(_TRACE)]


def test_the_trace_names_existing_files_holding_the_symbols_named() -> None:
    assert [n for n, _, _ in ROWS] == list(range(1, len(ROWS) + 1))
    for _, path, symbol in ROWS:
        source = ROOT / path
        assert source.is_file(), path
        assert re.search(rf"\b{re.escape(symbol)}\b", source.read_text()), (path, symbol)


def test_the_trace_counts_are_the_counts_of_its_tables() -> None:
    declared = _TRACE.split("**Shared by every entity**", 1)[0]
    n_declared = len(_ROW.findall(declared))
    files = {path for _, path, _ in ROWS}
    assert len(files) == len(ROWS)  # each file once
    assert (
        f"**{n_declared} files declare the entity or its data group, {len(files)} files in all**"
        in _TRACE
    )


def test_the_trace_starts_at_the_reserve_soc_row_and_its_control() -> None:
    (row,) = [s for s in storage.SPECS if s.key == "reserve_soc"]
    assert (row.topic, row.value, row.component) == ("storage", "reserved_soc", Component.NUMBER)
    assert row.control is not None
    assert row.control.name == "reserve_soc"


VERY_LOW = dataclasses.replace(
    storage.SPECS[0], key="very_low_soc", component=Component.SENSOR, value="very_low_soc",
    name="Very low battery level", device_class="battery", unit="%",
    category=Category.DIAGNOSTIC, extra=True, control=None,
)  # fmt: skip


def test_example_one_row_for_a_decoded_field_is_discovered_and_rendered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = state_topic_of(VERY_LOW.topic)
    assert topic is not None
    check_row_key(topic, VERY_LOW.value, "example row")  # what the import check runs
    with pytest.raises(TypeError, match="no key 'very_low_socc'"):
        check_row_key(topic, "very_low_socc", "example row")
    monkeypatch.setattr(registry, "ALL_SPECS", (*registry.ALL_SPECS, VERY_LOW))
    snap = snapshot("7.3.517")
    configs = discovery_payloads(snap, DiscoveryOptions(mode="component"))
    ((topic_name, config),) = [
        (t, c) for t, c in configs.items() if c["unique_id"].endswith("_very_low_soc")
    ]
    assert topic_name.startswith("homeassistant/sensor/")
    assert config["state_topic"] == f"envoy2mqtt/{snap.serial}/storage"
    assert config["value_template"] == "{{ value_json.very_low_soc }}"
    assert config["unit_of_measurement"] == "%"
    payload = state_payloads(snap)["storage"]
    assert render(config["value_template"], payload) == str(payload["very_low_soc"])


_STORAGE_COMMAND_NAMES = [c.__name__ for c in STORAGE_SETTING_COMMANDS]


def test_example_two_storage_commands_are_named_only_in_the_two_declaring_files() -> None:
    pattern = re.compile(r"\b(" + "|".join(_STORAGE_COMMAND_NAMES) + r")\b")
    naming = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "envoy2mqtt").rglob("*.py")
        if pattern.search(p.read_text())
    }
    # command_types.py only re-exports them (for callers not yet moved to updaters/tariff.py).
    assert naming == {
        "envoy2mqtt/envoy/updaters/tariff.py",
        "envoy2mqtt/catalog/controls.py",
        "envoy2mqtt/envoy/command_types.py",
    }


def test_example_two_every_storage_command_is_written_and_read_back_by_declaration() -> None:
    assert set(STORAGE_SETTING_COMMANDS) == set(typing.get_args(StorageSettingCommand))
    fields = set(StorageSettings.__struct_fields__)
    settings = msgspec.convert(
        {"mode": "backup", "operation_mode_sub_type": "", "reserved_soc": 20.0,
         "very_low_soc": 5, "charge_from_grid": True},
        StorageSettings,
    )  # fmt: skip
    for command in STORAGE_SETTING_COMMANDS:
        assert command in commands.BUILDERS, command.__name__
        assert command.setting in fields
        assert command.read(settings) == getattr(settings, command.setting)
        assert tariff_watch._shown(settings, command.setting) == command.read(settings)
