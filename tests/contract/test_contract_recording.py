"""The public MQTT contract is the recorded one, topic for topic and key for key.

The recorder (:mod:`tests.contract.recorder`) runs the real bridge against the simulator
and a real mosquitto for every fixture (plus component discovery and a named instance)
and collects the complete retained topic set; this test compares it with the recording in
``tests/contract/recording/<variant>/<fixture>.json`` and prints, on failure, every topic
that appeared or vanished and every key path whose value changed (old -> new).

A difference is either a bug or a deliberate contract change. Only for the latter,
regenerate with ``python -m tests.contract.record`` (all) or
``python -m tests.contract.record default/7.3.517`` (some), review the diff and explain it
in the commit message (docs/internals.md, "The contract recording").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.recorder import (
    NORMALISED,
    RECORDING_DIR,
    Recorder,
    data_fixtures,
    diff,
    jobs,
    load,
    normalise,
)

REGENERATE = "regenerate deliberately with `python -m tests.contract.record` (see module docstring)"


@pytest.mark.timeout(300)
async def test_every_retained_topic_matches_the_recording(tmp_path: Path) -> None:
    every = jobs()
    recorded = {j.key: load(j) for j in every}
    missing = sorted(k for k, r in recorded.items() if r is None)
    assert not missing, f"no recording for {missing}: {REGENERATE}"
    recorder = Recorder(tmp_path)
    results = await recorder.run(every)
    for note in recorder.retried:
        print(f"repeated: {note}")  # shown with -rP; a failed poll is the machine's load
    report = [
        f"== {key}\n{diff(recorded[key] or {}, result)}"
        for key, result in results.items()
        if result != recorded[key]
    ]
    assert not report, "the MQTT contract changed:\n" + "\n".join(report) + f"\n{REGENERATE}"


def test_the_recording_has_a_file_for_each_job_and_no_other() -> None:
    files = {
        p.relative_to(RECORDING_DIR).with_suffix("").as_posix()
        for p in RECORDING_DIR.glob("*/*.json")
    }
    assert files == {j.key for j in jobs()}


def test_the_recording_covers_every_fixture_both_discovery_modes_and_an_instance() -> None:
    every = {j.key: load(j) for j in jobs()}
    assert {k.split("/")[1] for k in every if k.startswith("default/")} == set(data_fixtures())
    default = every["default/8.3.5169_with_generator"]
    assert default is not None
    assert any(t.startswith("homeassistant/device/") for t in default)
    component = every["component/8.3.5169_with_generator"]
    assert component is not None
    assert any(t.startswith("homeassistant/sensor/") for t in component)
    assert not any(t.startswith("homeassistant/device/") for t in component)
    instance = every["instance/7.6.185_with_cts_and_battery_3t"]
    assert instance is not None
    assert "envoy2mqtt/bridge/north/state" in instance
    assert "envoy2mqtt/bridge/state" not in instance


def test_only_the_listed_run_values_are_normalised() -> None:
    url = "https://127.0.0.1:40123"
    gateway = {
        "last_poll": 1_800_000_000,
        "last_poll_iso": "2027-01-15T08:00:00+00:00",
        "serial": "1",
    }
    assert normalise("envoy2mqtt/1/gateway", gateway, url, 1883) == {
        "last_poll": "<poll-time>",
        "last_poll_iso": "<poll-time-iso>",
        "serial": "1",
    }
    # a value of an unexpected type or form stays as it is, so it shows as a difference
    odd = {"last_poll": None, "last_poll_iso": "yesterday"}
    assert normalise("envoy2mqtt/1/gateway", odd, url, 1883) == odd
    # the same keys elsewhere are data, not run values
    assert normalise("envoy2mqtt/1/production", {"last_poll": 5}, url, 1883) == {"last_poll": 5}
    info = {"version": "0.0.0-other", "mqtt": {"port": 1883}, "envoys": [{"host": url}]}
    assert normalise("envoy2mqtt/bridge/info", info, url, 1883) == {
        "version": "0.0.0-other",
        "mqtt": {"port": "<mqtt-port>"},
        "envoys": [{"host": "<envoy-url>"}],
    }
    assert len(NORMALISED) == 4


def test_the_diff_names_topic_key_and_both_values() -> None:
    old = {"a/x": {"unit": "W", "phases": {"l1": {"v": 1}}}, "a/gone": "online"}
    new = {"a/x": {"unit": "kW", "phases": {"l1": {}}}, "a/new": "offline"}
    assert diff(old, new).splitlines() == [
        "- topic gone: a/gone",
        "+ new topic: a/new",
        "~ a/x :: phases.l1: (absent) -> {}",
        "~ a/x :: phases.l1.v: 1 -> (absent)",
        '~ a/x :: unit: "W" -> "kW"',
    ]
