"""The soak benchmark's checker judges a lifetime value by the bridge guard's own rule."""

from __future__ import annotations

import json

from benchmarks._soakcheck import SoakChecker

SERIAL = "122"


def _checker(*suffixes: str) -> SoakChecker:
    checker = SoakChecker()
    for n, suffix in enumerate(suffixes):
        config = {
            "state_topic": f"envoy2mqtt/{SERIAL}/{suffix}",
            "value_template": "{{ value_json.watt_hours_lifetime }}",
            "state_class": "total_increasing",
        }
        checker.add(f"homeassistant/sensor/{SERIAL}_{n}/config", json.dumps(config).encode())
    return checker


def _readings(checker: SoakChecker, suffix: str, *values: float) -> None:
    for value in values:
        payload = json.dumps({"watt_hours_lifetime": value}).encode()
        checker.add(f"envoy2mqtt/{SERIAL}/{suffix}", payload)


def test_a_guarded_lifetime_stepping_to_zero_is_a_wrong_value() -> None:
    checker = _checker("production")
    _readings(checker, "production", 1000.0, 0.0)
    assert checker.wrong["lifetime_zero"] == 1


def test_a_balanced_total_of_the_same_key_at_zero_is_not_flagged_as_a_guard_failure() -> None:
    # net_consumption declares watt_hours_lifetime counter=BALANCED: the guard lets it fall
    checker = _checker("net_consumption")
    _readings(checker, "net_consumption", 1000.0, 0.0)
    assert checker.wrong["lifetime_zero"] == 0
    assert checker.counts["lifetime_resets"] == 1
