"""The one-place declarations: data groups, state topics, controls' value rules, row keys."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from envoy2mqtt.catalog import registry
from envoy2mqtt.catalog.controls import CONTROLS
from envoy2mqtt.catalog.fields import FieldKey, key_of
from envoy2mqtt.catalog.spec import IntRangeSchema
from envoy2mqtt.catalog.state_topics import STATE_TOPICS, check_row_key, state_topic_of
from envoy2mqtt.catalog.storage import RESERVE_SOC, STORAGE_MODES
from envoy2mqtt.envoy import endpoints, groups
from envoy2mqtt.envoy.command_types import int_bounds
from envoy2mqtt.envoy.commands_base import check_fields
from envoy2mqtt.envoy.errors import EnvoyCommandRejected
from envoy2mqtt.envoy.models.data import EnvoyData, Inverter, StorageSettings
from envoy2mqtt.envoy.probe import UPDATERS
from envoy2mqtt.envoy.updaters.tariff import STORAGE_MODE_NAMES, SetReserveSoc, SetStorageMode


def test_every_envoy_data_field_belongs_to_exactly_one_data_group() -> None:
    owned = [name for g in groups.DATA_GROUPS.values() for name in g.fields]
    assert sorted(owned) == sorted(f.name for f in msgspec.structs.fields(EnvoyData))
    assert {u.group for u in UPDATERS} == set(groups.DATA_GROUPS)


def test_data_group_endpoints_are_declared_paths() -> None:
    paths = {v for k, v in vars(endpoints).items() if k.isupper() and isinstance(v, str)}
    for group in groups.DATA_GROUPS.values():
        assert set(group.endpoints) <= paths, group.name


def test_reserve_soc_row_reads_the_storage_topic_filled_by_the_tariff_group() -> None:
    (row,) = [s for s in registry.ALL_SPECS if s.control is RESERVE_SOC]
    topic = state_topic_of(row.topic)
    assert topic is not None
    assert (row.topic, row.value, topic.source) == ("storage", "reserved_soc", groups.TARIFF)


def test_every_published_state_topic_is_declared_once() -> None:
    firsts = [t.first_level for t in STATE_TOPICS]
    assert len(firsts) == len(set(firsts))
    for row in registry.ALL_SPECS:
        assert state_topic_of(row.topic) is not None, row.key


def test_a_misspelt_row_key_fails_the_import_check() -> None:
    storage = state_topic_of("storage")
    assert storage is not None
    check_row_key(storage, "reserved_soc", "row reserve_soc")
    with pytest.raises(TypeError, match="'storage' has no key 'reserve_soc'"):
        check_row_key(storage, "reserve_soc", "row reserve_soc")


def test_a_typed_row_key_names_its_struct_field_and_must_belong_to_the_topic() -> None:
    key = key_of(StorageSettings.reserved_soc)
    assert (key, key.owner) == ("reserved_soc", StorageSettings)
    storage, collar = state_topic_of("storage"), state_topic_of("collar")
    assert storage is not None
    assert collar is not None
    check_row_key(storage, key, "row reserve_soc")
    # the collar's payload has a last_report_date too, but not the inverters' field
    wrong_owner = key_of(Inverter.last_report_date)
    assert wrong_owner in collar.keys
    with pytest.raises(TypeError, match=r"Inverter\.last_report_date is not a payload Struct"):
        check_row_key(collar, wrong_owner, "row x")


@pytest.mark.parametrize(
    "attribute", [StorageSettings.__init__, "reserved_soc", 3, EnvoyData.__struct_fields__]
)
def test_key_of_accepts_only_a_struct_field(attribute: object) -> None:
    with pytest.raises(TypeError, match="is not a field of a msgspec Struct"):
        key_of(attribute)


def test_every_row_naming_a_struct_field_names_it_typed() -> None:
    untyped = []
    for row in registry.ALL_SPECS:
        key = row.derived.source if row.derived is not None else row.value
        topic = state_topic_of(row.topic)
        assert topic is not None
        owners = [s for s in topic.structs if key in s.__struct_fields__]
        if len(owners) == 1 and not isinstance(key, FieldKey):
            untyped.append(f"{row.topic}:{row.key}")
    # rows shared by the collar and C6CC topics keep one string for two Structs
    shared = ("communicating", "last_reported")
    assert sorted(untyped) == sorted(f"{t}:{k}" for t in ("collar", "c6cc") for k in shared)


def test_the_registry_check_rejects_a_row_with_an_unknown_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = dataclasses.replace(registry.ALL_SPECS[0], value="no_such_field", derived=None)
    monkeypatch.setattr(registry, "ALL_SPECS", (bad,))
    with pytest.raises(TypeError, match="no_such_field"):
        registry._check_rows()


def test_value_rules_come_from_the_command_annotations() -> None:
    assert RESERVE_SOC.schema == IntRangeSchema(*int_bounds(SetReserveSoc, "value"))
    assert int_bounds(SetReserveSoc, "value") == (0, 100)
    assert sorted(STORAGE_MODES.values()) == sorted(STORAGE_MODE_NAMES)
    assert CONTROLS["storage_mode"].schema.mapping is STORAGE_MODES  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (SetReserveSoc(value=101), "battery reserve must be an integer 0-100, got 101"),
        (SetReserveSoc(value=True), "battery reserve must be an integer 0-100, got true"),
        (SetStorageMode(mode="savings"), "storage mode must be one of backup|economy|self-c"),  # type: ignore[arg-type]
    ],
)
def test_the_client_checks_a_command_against_the_same_annotations(
    command: msgspec.Struct, message: str
) -> None:
    with pytest.raises(EnvoyCommandRejected, match=message.replace("|", r"\|")):
        check_fields(command)


def test_counter_facts_on_rows_give_the_guards_their_keys() -> None:
    assert {
        "energy_delivered",
        "energy_received",
        "lifetime_energy",
        "watt_hours_lifetime",
    } == registry.LIFETIME_KEYS
    daily = {(c.topic, c.key, c.lifetime) for c in registry.DAILY_COUNTERS}
    assert daily == {
        ("production", "watt_hours_today", "watt_hours_lifetime"),
        ("production", "watt_hours_last_7_days", "watt_hours_lifetime"),
        ("consumption", "watt_hours_today", "watt_hours_lifetime"),
        ("consumption", "watt_hours_last_7_days", "watt_hours_lifetime"),
        ("inverters/*", "energy_today", "lifetime_energy"),
    }
