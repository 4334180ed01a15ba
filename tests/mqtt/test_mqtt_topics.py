"""The topic grammar: builders, the level sanitiser and the /set parser (pure functions)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from envoy2mqtt.catalog.controls import CONTROLS
from envoy2mqtt.catalog.topics import (
    SetTopic,
    Topics,
    control_for_path,
    is_valid_level,
    sanitize_level,
    state_suffix,
)

LEVEL = re.compile(r"^[a-z0-9_-]+$")
T = Topics("envoy2mqtt")


def test_bridge_topics() -> None:
    assert T.bridge_state == "envoy2mqtt/bridge/state"
    assert T.bridge_info == "envoy2mqtt/bridge/info"
    assert T.bridge_health == "envoy2mqtt/bridge/health"


def test_device_topics() -> None:
    assert T.availability("122107032918") == "envoy2mqtt/122107032918/availability"
    assert T.state("122107032918", "production") == "envoy2mqtt/122107032918/production"
    assert T.state("1221", "meters/net-consumption") == "envoy2mqtt/1221/meters/net-consumption"
    assert T.state("1221", "inverters", "482243031579") == "envoy2mqtt/1221/inverters/482243031579"
    assert T.state("1221", "dry_contacts", "NC 1") == "envoy2mqtt/1221/dry_contacts/nc_1"
    assert T.device_prefix("1221") == "envoy2mqtt/1221"


def test_command_and_result_topics() -> None:
    assert T.command("1221", "grid_relay") == "envoy2mqtt/1221/grid_relay/set"
    assert T.result("1221", "grid_relay") == "envoy2mqtt/1221/grid_relay/result"
    assert T.command("1221", "dry_contacts", "NC1") == "envoy2mqtt/1221/dry_contacts/nc1/set"
    assert (
        T.command("1221", "dry_contact_settings", "nc1")
        == "envoy2mqtt/1221/dry_contacts/nc1/settings/set"
    )
    assert (
        T.result("1221", "dry_contact_settings", "NC1")
        == "envoy2mqtt/1221/dry_contacts/nc1/settings/result"
    )
    # a control without an id level ignores the id (the storage owner's id, say)
    assert T.command("1221", "reserve_soc", "482") == "envoy2mqtt/1221/reserve_soc/set"


def test_state_suffix_of_a_pattern() -> None:
    assert state_suffix("inverters/{id}", "4822 43") == "inverters/4822_43"
    assert state_suffix("storage") == "storage"


def test_control_for_path() -> None:
    assert control_for_path("dry_contacts/nc1/settings") == ("dry_contact_settings", "nc1")
    assert control_for_path("dry_contacts/nc1") == ("dry_contacts", "nc1")
    assert control_for_path("reserve_soc") == ("reserve_soc", None)
    assert control_for_path("grid_relay/x") == ("grid_relay", "x")  # rejected in words later


def test_base_topic_with_levels() -> None:
    topics = Topics("home/solar")
    assert topics.bridge_state == "home/solar/bridge/state"
    assert topics.parse_command("home/solar/1221/reserve_soc/set") == SetTopic(
        "1221", "reserve_soc", None, "reserve_soc"
    )
    assert topics.command_filters() == (
        "home/solar/+/+/set",
        "home/solar/+/+/+/set",
        "home/solar/+/+/+/settings/set",
    )


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("envoy2mqtt/1221/grid_relay/set", SetTopic("1221", "grid_relay", None, "grid_relay")),
        (
            "envoy2mqtt/1221/storage_mode/set",
            SetTopic("1221", "storage_mode", None, "storage_mode"),
        ),
        (
            "envoy2mqtt/1221/dry_contacts/nc1/set",
            SetTopic("1221", "dry_contacts", "nc1", "dry_contacts/nc1"),
        ),
        (
            "envoy2mqtt/1221/dry_contacts/nc1/settings/set",
            SetTopic("1221", "dry_contact_settings", "nc1", "dry_contacts/nc1/settings"),
        ),
        ("envoy2mqtt/1221/fly/x/settings/set", SetTopic("1221", "fly", "x", "fly/x/settings")),
        ("envoy2mqtt/1221/grid_relay/result", None),
        ("envoy2mqtt/1221/production", None),
        ("envoy2mqtt/1221/set", None),
        ("envoy2mqtt/bridge/state/set", None),
        ("other/1221/grid_relay/set", None),
        ("envoy2mqtt/1221/Grid_Relay/set", None),
        ("envoy2mqtt/1221//set", None),
        ("envoy2mqtt/1221/dry_contacts/nc1/extra/set", None),
        ("envoy2mqtt/1221/a/b/c/d/set", None),
        ("envoy2mqttx/1221/grid_relay/set", None),
    ],
)
def test_parse_command(topic: str, expected: SetTopic | None) -> None:
    assert T.parse_command(topic) == expected


def test_result_for_mirrors_the_command_path() -> None:
    for command in (
        "envoy2mqtt/1221/reserve_soc/set",
        "envoy2mqtt/1221/dry_contacts/nc2/set",
        "envoy2mqtt/1221/dry_contacts/nc2/settings/set",
    ):
        parsed = T.parse_command(command)
        assert parsed is not None
        assert T.result_for(parsed) == command.removesuffix("/set") + "/result"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("122107032918", "122107032918"),
        ("NC1", "nc1"),
        ("Load 1/Pump", "load_1_pump"),
        ("a+b#c", "a_b_c"),
        ("Température", "temperature"),
        ("  spaced  ", "spaced"),
        ("net-consumption", "net-consumption"),
    ],
)
def test_sanitize_examples(raw: str, clean: str) -> None:
    assert sanitize_level(raw) == clean


def test_sanitize_never_empty_and_keeps_distinct_inputs_apart() -> None:
    empty, slash, plus = sanitize_level(""), sanitize_level("/"), sanitize_level("+")
    assert all(LEVEL.match(v) for v in (empty, slash, plus))
    assert len({empty, slash, plus}) == 3


@given(st.text())
def test_sanitize_property(raw: str) -> None:
    clean = sanitize_level(raw)
    assert LEVEL.match(clean)
    assert not any(c in clean for c in "+#/ ")
    assert sanitize_level(clean) == clean  # idempotent
    assert is_valid_level(clean)


@given(st.from_regex(LEVEL, fullmatch=True).filter(lambda level: len(level) <= 64))
def test_valid_levels_are_unchanged(level: str) -> None:
    assert sanitize_level(level) == level


@given(
    serial=st.text(),
    control=st.sampled_from(sorted(CONTROLS)) | st.text(),
    ident=st.none() | st.text(),
)
def test_built_command_topics_parse_back(serial: str, control: str, ident: str | None) -> None:
    spec = CONTROLS.get(control)
    takes_id = spec is not None and "{id}" in spec.topic
    assume(not takes_id or ident is not None)
    topic = T.command(serial, control, ident)
    parsed = T.parse_command(topic)
    if sanitize_level(serial) == "bridge":
        assert parsed is None
        return
    assert parsed is not None
    assert parsed.serial == sanitize_level(serial)
    assert T.result_for(parsed) == topic.removesuffix("/set") + "/result"
    if spec is not None:
        wanted = (control, sanitize_level(ident) if takes_id and ident is not None else None)
    else:
        wanted = (sanitize_level(control), None if ident is None else sanitize_level(ident))
    assert (parsed.control, parsed.ident) == wanted
