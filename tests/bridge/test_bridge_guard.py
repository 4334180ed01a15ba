"""The lifetime-counter guard: values never step down, real resets are confirmed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envoy2mqtt.bridge.lifetime_guard import LifetimeGuard, LifetimeKeys
from envoy2mqtt.catalog.registry import LIFETIME_KEYS


def feed(guard: LifetimeGuard, values: list[float], key: str = "watt_hours_lifetime") -> list[Any]:
    return [guard.filter("production", "production", {key: v})[key] for v in values]


def test_increasing_values_pass_through() -> None:
    assert feed(LifetimeGuard(), [10, 20, 20, 35]) == [10, 20, 20, 35]


def test_transient_zero_after_reboot_is_held() -> None:
    assert feed(LifetimeGuard(), [1000, 0, 0, 1000, 1010]) == [1000, 1000, 1000, 1000, 1010]


def test_zeros_never_confirm_a_reset_however_long() -> None:
    out = feed(LifetimeGuard(confirm=2), [500, *([0] * 20)])
    assert out == [500] * 21


def test_small_drop_is_held_as_jitter_and_never_confirms() -> None:
    # 999.5 is within 0.1 % of 1000: jitter, so even many of them do not count as a reset.
    out = feed(LifetimeGuard(confirm=2), [1000, 999.5, 999.5, 999.5])
    assert out == [1000, 1000, 1000, 1000]


def test_large_drop_held_until_confirmed_by_consistent_readings() -> None:
    out = feed(LifetimeGuard(confirm=3), [100_000, 10, 12, 15, 20])
    assert out == [100_000, 100_000, 100_000, 15, 20]


def test_decreasing_candidates_restart_the_confirmation() -> None:
    out = feed(LifetimeGuard(confirm=3), [100_000, 50, 40, 45, 46, 47])
    # 50 then 40 breaks the run; 40, 45, 46 confirm.
    assert out == [100_000, 100_000, 100_000, 100_000, 46, 47]


def test_zero_between_candidates_restarts_the_confirmation() -> None:
    out = feed(LifetimeGuard(confirm=2), [9000, 10, 0, 11, 12])
    assert out == [9000, 9000, 9000, 9000, 12]


def test_recovery_discards_candidates() -> None:
    out = feed(LifetimeGuard(confirm=2), [9000, 10, 9100, 11])
    assert out == [9000, 9000, 9100, 9100]


def test_other_keys_and_nested_phases_are_handled() -> None:
    guard = LifetimeGuard()
    first = {"watts_now": 50, "phases": {"l1": {"watt_hours_lifetime": 7}}, "ok": True}
    guard.filter("production", "production", first)
    second = {"watts_now": 0, "phases": {"l1": {"watt_hours_lifetime": 0}}, "ok": True}
    out = guard.filter("production", "production", second)
    assert out == {"watts_now": 0, "phases": {"l1": {"watt_hours_lifetime": 7}}, "ok": True}
    assert second["phases"]["l1"]["watt_hours_lifetime"] == 0  # input untouched


def test_topics_are_tracked_independently() -> None:
    guard = LifetimeGuard()
    guard.filter("inverters/a", "inverters/a", {"lifetime_energy": 100})
    assert guard.filter("inverters/b", "inverters/b", {"lifetime_energy": 5}) == {
        "lifetime_energy": 5
    }


def test_seed_from_retained_state_holds_a_zero_after_bridge_restart() -> None:
    guard = LifetimeGuard()
    guard.seed("production", "production", {"watt_hours_lifetime": 4242, "watts_now": 3})
    assert guard.filter("production", "production", {"watt_hours_lifetime": 0}) == {
        "watt_hours_lifetime": 4242
    }


def test_forget_lets_a_replaced_device_start_low() -> None:
    guard = LifetimeGuard()
    guard.filter("inverters/a", "inverters/a", {"lifetime_energy": 100})
    guard.forget(["inverters/a"])
    assert guard.filter("inverters/a", "inverters/a", {"lifetime_energy": 3}) == {
        "lifetime_energy": 3
    }


def test_booleans_are_not_counters() -> None:
    guard = LifetimeGuard(keys_of=lambda _suffix: {"flag"})
    guard.filter("x", "x", {"flag": True})
    assert guard.filter("x", "x", {"flag": False}) == {"flag": False}


def test_confirm_must_be_positive() -> None:
    with pytest.raises(ValueError, match="confirm"):
        LifetimeGuard(confirm=0)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60))
def test_output_never_steps_down_unless_a_reset_was_confirmed(values: list[int]) -> None:
    confirm = 3
    guard = LifetimeGuard(confirm=confirm)
    out = feed(guard, [float(v) for v in values])
    for i in range(1, len(out)):
        if out[i] < out[i - 1]:
            # a step down is only allowed after `confirm` positive, non-decreasing readings
            run = values[i - confirm + 1 : i + 1]
            assert len(run) == confirm
            assert all(v > 0 for v in run)
            assert run == sorted(run)


def test_guarded_keys_come_from_the_catalogue_and_skip_daily_counters() -> None:
    assert {"watt_hours_lifetime", "lifetime_energy", "energy_delivered"} <= LIFETIME_KEYS
    assert "watt_hours_today" not in LIFETIME_KEYS  # resets every midnight by design
    assert "energy_today" not in LIFETIME_KEYS
    keys_of = LifetimeKeys()
    assert keys_of("production") == LIFETIME_KEYS
    assert keys_of("meters/production") == LIFETIME_KEYS  # no entity row, guarded all the same
    assert "watt_hours_lifetime" not in keys_of("net_consumption")  # a balanced total
    assert keys_of("net_consumption") == LIFETIME_KEYS - {"watt_hours_lifetime"}


def test_balanced_net_lifetime_follows_its_readings_down_and_below_zero() -> None:
    # Balanced net consumption falls while exporting (HA's entity for it is `total`): it is
    # not a lifetime counter, although its key is the production counter's key.
    guard = LifetimeGuard()
    exporting = [5000, 4900, 0, -300, -250]
    net = [
        guard.filter("e/1/net_consumption", "net_consumption", {"watt_hours_lifetime": v})
        for v in exporting
    ]
    assert [p["watt_hours_lifetime"] for p in net] == exporting
    nested = {"phases": {"l1": {"watt_hours_lifetime": -10}}}
    assert guard.filter("e/1/net_consumption", "net_consumption", nested) == nested
    produced = [
        guard.filter("e/1/production", "production", {"watt_hours_lifetime": v}) for v in exporting
    ]
    assert [p["watt_hours_lifetime"] for p in produced] == [5000, 5000, 5000, 5000, 5000]
