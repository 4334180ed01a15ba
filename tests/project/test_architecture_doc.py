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
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import Category, Component, EntitySpec
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
    declared_part = _TRACE.split("**Shared by every entity**", 1)[0]
    declared = [path for _, path, _ in _ROW.findall(declared_part)]
    paths = [path for _, path, _ in ROWS]
    shared = paths[len(declared) :]
    # A file with several hops (catalog/storage.py) holds consecutive rows of one table.
    blocks = [p for i, p in enumerate(paths) if i == 0 or paths[i - 1] != p]
    assert len(blocks) == len(set(paths)), paths
    assert not set(declared) & set(shared)
    n_declared, n_files = len(set(declared)), len(set(paths))
    assert (
        f"**{n_declared} files declare the entity or its data group, {n_files} files in all**"
        in _TRACE
    )


def test_the_trace_starts_at_the_reserve_soc_row_and_its_control() -> None:
    (row,) = [s for s in storage.SPECS if s.key == "reserve_soc"]
    assert (row.topic, row.value, row.component) == ("storage", "reserved_soc", Component.NUMBER)
    assert row.control is not None
    assert row.control.name == "reserve_soc"


_ONE_ROW = DOC.split("## Worked example: a sensor", 1)[1].split("```python\n", 1)[1]
# The doc's row, evaluated as written, in the names catalog/storage.py has.
VERY_LOW: EntitySpec = eval(
    _ONE_ROW.split("```", 1)[0].strip().rstrip(","),
    {**vars(storage), "replace": dataclasses.replace, "Category": Category},
)


def test_example_one_row_for_a_decoded_field_is_discovered_and_rendered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = state_topic_of(VERY_LOW.topic)
    assert topic is not None
    assert VERY_LOW.value == key_of(StorageSettings.very_low_soc)
    check_row_key(topic, VERY_LOW.value, "example row")  # what the import check runs
    with pytest.raises(TypeError, match="no key 'very_low_socc'"):
        check_row_key(topic, "very_low_socc", "example row")
    with pytest.raises(AttributeError, match="very_low_socc"):
        key_of(StorageSettings.very_low_socc)  # type: ignore[attr-defined]
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
    assert naming == {"envoy2mqtt/envoy/updaters/tariff.py", "envoy2mqtt/catalog/storage.py"}


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
