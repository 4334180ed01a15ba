"""Tier planning, fixed-rate scheduling and the availability rule."""

from __future__ import annotations

import pytest

from envoy2mqtt.bridge.schedule import (
    Availability,
    FailureKind,
    Tier,
    TierName,
    fastest_data_tier,
    next_tick,
    plan_tiers,
)
from envoy2mqtt.settings.envoy import default_grace


def test_groups_are_assigned_to_their_tiers() -> None:
    tiers = plan_tiers(5, 60, 600, ["meters", "production", "tariff", "inverters", "mystery"])
    by_name = {t.name: t for t in tiers}
    assert by_name[TierName.FAST].groups == ("meters",)
    assert by_name[TierName.NORMAL].groups == ("inverters", "mystery")
    assert by_name[TierName.LONG].groups == ("production",)  # may take a minute: own loop
    assert by_name[TierName.SLOW].groups == ("tariff",)
    assert not by_name[TierName.SLOW].check_info
    assert by_name[TierName.FIRMWARE].groups == ()
    assert by_name[TierName.FIRMWARE].check_info
    assert [t.interval for t in tiers] == [5, 60, 60, 600, 3600]
    assert by_name[TierName.LONG].budget == 75.0


def test_empty_tiers_are_dropped_but_firmware_always_checks_info() -> None:
    tiers = plan_tiers(5, 60, 600, ["production"], firmware=7200)
    assert [t.name for t in tiers] == [TierName.LONG, TierName.FIRMWARE]
    assert tiers[1].groups == ()
    assert tiers[1].interval == 7200
    assert [t.name for t in tiers if t.check_info] == [TierName.FIRMWARE]


def test_none_means_every_known_group() -> None:
    tiers = plan_tiers(5, 60, 600, None)
    assert "livedata" in tiers[0].groups
    assert "acb_inventory" in next(t for t in tiers if t.name is TierName.SLOW).groups


@pytest.mark.parametrize(
    ("interval", "budget"), [(1, 2.0), (5, 4.0), (60, 45.0), (600, 45.0), (10, 8.0)]
)
def test_budget_is_a_bounded_share_of_the_interval(interval: float, budget: float) -> None:
    assert Tier(TierName.FAST, interval, ("meters",)).budget == pytest.approx(budget)


def test_next_tick_keeps_the_rate_and_skips_missed_ticks() -> None:
    assert next_tick(100.0, 5.0, 101.0) == 105.0
    assert next_tick(100.0, 5.0, 105.0) == 105.0
    assert next_tick(100.0, 5.0, 117.5) == 120.0  # ticks 105, 110, 115 were missed


def test_default_grace_is_three_normal_intervals_whatever_the_tiers() -> None:
    assert default_grace(60) == 180
    assert default_grace(2.5) == 7.5
    assert fastest_data_tier(plan_tiers(5, 60, 600, ["meters", "production"])).interval == 5
    assert fastest_data_tier(plan_tiers(5, 60, 600, ["production"])).interval == 60


def test_availability_starts_offline_and_follows_success() -> None:
    av = Availability(grace=15)
    assert not av.online
    assert av.success(0.0) is True
    assert av.online
    assert av.success(1.0) is False


def test_unreachable_polls_do_not_go_offline_before_the_grace() -> None:
    av = Availability(grace=15)
    av.success(0.0)
    for now in (1.0, 2.0, 5.0, 10.0, 15.0):
        assert av.failure(now, FailureKind.UNREACHABLE) is False
        assert av.online
    assert av.failure(15.5, FailureKind.UNREACHABLE) is True
    assert not av.online
    assert av.success(16.0) is True
    assert av.online


def test_deadline_is_last_success_plus_grace_while_online() -> None:
    av = Availability(grace=15)
    assert av.deadline() is None
    av.success(3.0)
    assert av.deadline() == 18.0
    av.evaluate(18.5)
    assert av.deadline() is None


def test_auth_failure_is_offline_at_once() -> None:
    av = Availability(grace=15)
    av.success(0.0)
    assert av.failure(1.0, FailureKind.AUTH) is True
    assert not av.online


def test_grace_expiry_goes_offline_without_any_failure_report() -> None:
    av = Availability(grace=15)
    av.success(0.0)
    assert av.evaluate(10.0) is False
    assert av.evaluate(15.5) is True
    assert not av.online
