"""``instance`` and ``shard``: validation, derived client id, stable shard hash, topics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from envoy2mqtt.catalog.discovery import DiscoveryOptions, discovery_payloads
from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.settings import ConfigError, Settings, load_settings, summary
from envoy2mqtt.sharding import Shard, shard_key, shard_of
from tests.catalog_helpers import snapshot

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = "mqtt:\n  host: 127.0.0.1\nenvoys:\n  - host: envoy.local\n"


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.problems


def test_unset_instance_keeps_todays_topics_and_client_id(tmp_path: Path) -> None:
    settings = load(tmp_path, MINIMAL)
    assert (settings.instance, settings.shard, settings.mqtt.client_id) == (
        None,
        None,
        "envoy2mqtt",
    )
    assert Topics("envoy2mqtt").bridge_state == "envoy2mqtt/bridge/state"
    assert settings.served_envoys() == settings.envoys


def test_instance_derives_the_client_id_unless_one_is_chosen(tmp_path: Path) -> None:
    assert load(tmp_path, "instance: a\n" + MINIMAL).mqtt.client_id == "envoy2mqtt-a"
    # the example file spells the default out: still derived, or instances would clash
    spelled = MINIMAL.replace("host: 127.0.0.1\n", "host: 127.0.0.1\n  client_id: envoy2mqtt\n")
    assert load(tmp_path, "instance: a\n" + spelled).mqtt.client_id == "envoy2mqtt-a"
    chosen = MINIMAL.replace("host: 127.0.0.1\n", "host: 127.0.0.1\n  client_id: site-7\n")
    assert load(tmp_path, "instance: a\n" + chosen).mqtt.client_id == "site-7"
    assert load(tmp_path, "instance: 7\n" + MINIMAL).instance == "7"


def test_one_file_feeds_several_instances_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVOY2MQTT_INSTANCE", "b")
    monkeypatch.setenv("ENVOY2MQTT_SHARD", "2/3")
    settings = load_settings(ROOT / "config.example.yaml")
    assert (settings.instance, settings.shard, settings.mqtt.client_id) == (
        "b",
        "2/3",
        "envoy2mqtt-b",
    )
    assert any(line.startswith("instance: b shard=2/3 serves=") for line in summary(settings))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("instance: A\n", "instance: must be 1-32 of a-z 0-9 _ - starting with a letter or digit"),
        ("instance: 'a/b'\n", "instance: must be 1-32 of a-z 0-9 _ -"),
        ("instance: '-a'\n", "instance: must be 1-32 of a-z 0-9 _ -"),
        ("instance: state\n", "instance: 'state' is reserved"),
        ("instance: a\nshard: 2\n", "shard: must be 'i/n' with whole numbers, e.g. '2/5'"),
        ("instance: a\nshard: 0/3\n", "shard: needs 1 <= i <= n (got '0/3')"),
        ("instance: a\nshard: 4/3\n", "shard: needs 1 <= i <= n (got '4/3')"),
        ("shard: 1/3\n", "shard: needs `instance` too"),
    ],
)
def test_bad_instance_or_shard_fails_with_the_field_and_reason(
    tmp_path: Path, text: str, expected: str
) -> None:
    found = problems(tmp_path, text + MINIMAL)
    assert any(p.startswith(expected) for p in found), found


def test_shard_hash_is_the_documented_sha256_rule() -> None:
    for key in ("122027033238", "envoy.local", "https://10.0.0.5"):
        digest = hashlib.sha256(key.encode()).digest()
        assert shard_of(key, 5) == int.from_bytes(digest[:8], "big") % 5 + 1
    # pinned values: a change here moves Envoys between instances of existing fleets
    assert [shard_of(f"1220270{i:05d}", 3) for i in range(10)] == [3, 1, 1, 3, 2, 3, 3, 1, 2, 3]
    assert shard_key("ABC123", "envoy.local") == "abc123"
    assert shard_key(None, " Envoy.Local ") == "envoy.local"
    assert str(Shard.parse(" 2 / 5 ")) == "2/5"


def test_shards_split_the_configured_envoys_without_overlap(tmp_path: Path) -> None:
    envoys = "".join(
        f"  - host: 10.0.0.{i}\n" + (f"    serial: '1220270{i:05d}'\n" if i % 2 else "")
        for i in range(1, 13)
    )
    served: list[str] = []
    for index in (1, 2, 3):
        text = f"instance: s{index}\nshard: {index}/3\nmqtt:\n  host: 127.0.0.1\nenvoys:\n{envoys}"
        settings = load(tmp_path, text)
        mine = settings.served_envoys()
        assert mine, f"shard {index}/3 serves nothing"
        lines = [line for line in summary(settings) if line.startswith("envoys[")]
        others = [line for line in lines if line.endswith("(other shard: not served)")]
        assert len(others) == 12 - len(mine)
        served += [e.host for e in mine]
    assert sorted(served) == sorted(f"10.0.0.{i}" for i in range(1, 13))


def test_instance_topics() -> None:
    topics = Topics("site/e2m", "a")
    assert topics.bridge_state == "site/e2m/bridge/a/state"
    assert topics.bridge_info == "site/e2m/bridge/a/info"
    assert topics.bridge_health == "site/e2m/bridge/a/health"
    assert topics.owner("ABC1") == "site/e2m/abc1/owner"
    assert topics.parse_owner("site/e2m/abc1/owner") == "abc1"
    assert topics.parse_owner("site/e2m/bridge/owner") is None
    assert topics.parse_instance_state("site/e2m/bridge/b/state") == "b"
    assert topics.parse_instance_state("site/e2m/bridge/state") is None
    assert topics.command_filters("ABC1") == (
        "site/e2m/abc1/+/set",
        "site/e2m/abc1/+/+/set",
        "site/e2m/abc1/+/+/settings/set",
    )
    for topic_filter in topics.command_filters("ABC1"):
        assert topics.parse_command(topic_filter.replace("+", "x")) is not None


def test_discovery_availability_names_the_serving_instance() -> None:
    snap = snapshot("7.3.517")
    options = DiscoveryOptions(bridge_state_topic="envoy2mqtt/bridge/a/state")
    for config in discovery_payloads(snap, options).values():
        for component in config["cmps"].values():
            assert component["availability"] == [
                {"topic": "envoy2mqtt/bridge/a/state"},
                {"topic": f"envoy2mqtt/{snap.serial}/availability"},
            ]
            assert component["availability_mode"] == "all"
