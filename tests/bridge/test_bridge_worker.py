"""EnvoyWorker with a scripted fake client: setup retries, tiers, stale groups, availability."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from envoy2mqtt.bridge.poll_rules import retry_budget
from envoy2mqtt.bridge.schedule import Tier, TierName
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationError,
    EnvoyCommunicationError,
    EnvoyError,
    EnvoyHTTPStatusError,
)
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.snapshot import EnvoySnapshot, UpdateResult, WriteResult
from envoy2mqtt.envoy.updaters.tariff import SetReserveSoc


@dataclass
class Info:
    serial: str = "SN1"


@dataclass
class Probe:
    groups: list[str] = field(default_factory=lambda: ["meters", "production", "tariff"])


class FakeClient:
    def __init__(self) -> None:
        self.info: Info | None = None
        self.probe_result: Probe | None = None
        self.setup_errors: list[Exception] = []
        self.down = False
        self.group_errors: dict[str, EnvoyError] = {}
        self.hang: set[str] = set()
        self.info_changed = False
        self.calls: list[tuple[str, ...]] = []
        self.setups = 0
        self.seq = 0

    def snapshot(self) -> EnvoySnapshot:
        self.seq += 1
        # Info and Probe stand in for EnvoyInfo and ProbeResult (msgspec does not check).
        return EnvoySnapshot(
            seq=self.seq,
            info=self.info,  # type: ignore[arg-type]
            probe=self.probe_result,  # type: ignore[arg-type]
            data=EnvoyData(),
        )

    async def setup(self) -> EnvoySnapshot:
        self.setups += 1
        if self.setup_errors:
            raise self.setup_errors.pop(0)
        self.info = Info()
        self.probe_result = Probe()
        return self.snapshot()

    async def update(self, groups: Sequence[str] | None = None, **_kw: object) -> UpdateResult:
        assert groups is not None
        self.calls.append(tuple(groups))
        if self.down:
            raise EnvoyCommunicationError("connection refused")
        if self.hang & set(groups):
            await asyncio.Event().wait()
        failed: dict[str, EnvoyError] = {
            g: self.group_errors[g] for g in groups if g in self.group_errors
        }
        return UpdateResult(self.snapshot(), ok=set(groups) - set(failed), failed=failed)

    async def refresh_info(self, **_kw: object) -> EnvoySnapshot | None:
        changed, self.info_changed = self.info_changed, False
        if not changed:
            return None
        self.probe_result = Probe(groups=["production"])
        return self.snapshot()

    async def execute(self, command: object) -> WriteResult:
        self.calls.append(("execute",))
        if self.down:
            raise EnvoyHTTPStatusError(500, "/admin/lib/tariff")
        reread = await self.update(["tariff"])  # the real client re-reads the groups itself
        return WriteResult({"tariff"}, reread.snapshot)

    async def close(self) -> None:
        pass


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.changed = asyncio.Condition()

    async def _add(self, item: tuple[str, Any]) -> None:
        async with self.changed:
            self.events.append(item)
            self.changed.notify_all()

    async def envoy_ready(self, worker: EnvoyWorker, snapshot: EnvoySnapshot) -> None:
        await self._add(("ready", worker.serial))

    async def envoy_updated(
        self, worker: EnvoyWorker, snapshot: EnvoySnapshot, groups: set[str]
    ) -> None:
        await self._add(("updated", frozenset(groups)))

    async def envoy_availability(self, worker: EnvoyWorker, online: bool) -> None:
        await self._add(("availability", online))

    async def wait_for(self, pred: Callable[[list[tuple[str, Any]]], bool]) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: pred(self.events)), 5)


def count(events: list[tuple[str, Any]], item: tuple[str, Any]) -> int:
    return sum(1 for e in events if e == item)


@pytest.fixture
async def running() -> Any:
    tasks: list[asyncio.Task[None]] = []

    def start(worker: EnvoyWorker) -> None:
        tasks.append(asyncio.create_task(worker.run()))

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def make(client: FakeClient, rec: Recorder, **kw: Any) -> EnvoyWorker:
    return EnvoyWorker(
        client,
        rec,
        host="127.0.0.1",
        intervals=kw.pop("intervals", (0.02, 0.05, 0.1)),
        firmware_check=kw.pop("firmware_check", 0.1),
        setup_delays=(0.01, 0.02),
        **kw,
    )


async def test_unreachable_at_start_reports_offline_once_then_recovers(
    running: Callable[[EnvoyWorker], None],
) -> None:
    client, rec = FakeClient(), Recorder()
    client.setup_errors = [EnvoyCommunicationError("refused")] * 3
    worker = make(client, rec, configured_serial="CFG1")
    assert worker.serial == "CFG1"
    running(worker)
    await rec.wait_for(lambda ev: ("availability", True) in ev)
    assert rec.events[0] == ("availability", False)
    assert count(rec.events, ("availability", False)) == 1
    assert client.setups == 4
    assert ("ready", "SN1") in rec.events
    assert worker.serial == "SN1"
    assert "refused" in (worker.stats.last_error or "")


async def test_tiers_poll_their_own_groups(running: Callable[[EnvoyWorker], None]) -> None:
    client, rec = FakeClient(), Recorder()
    running(make(client, rec))
    await rec.wait_for(lambda ev: count(ev, ("updated", frozenset({"tariff"}))) >= 1)
    assert ("meters",) in client.calls
    assert ("production",) in client.calls
    assert all(len(c) == 1 for c in client.calls)


async def test_a_hanging_slow_endpoint_does_not_delay_fast_polls(
    running: Callable[[EnvoyWorker], None],
) -> None:
    client, rec = FakeClient(), Recorder()
    client.hang = {"tariff"}
    running(make(client, rec))
    await rec.wait_for(lambda ev: count(ev, ("updated", frozenset({"meters"}))) >= 5)
    assert ("tariff",) in client.calls


async def test_http_error_of_a_whole_tier_is_not_unreachable() -> None:
    client, rec = FakeClient(), Recorder()
    worker = make(client, rec, intervals=(10, 20, 30))
    await client.setup()
    await worker._poll_groups(["meters"])
    client.group_errors = {"production": EnvoyHTTPStatusError(500, "/production.json")}
    for _ in range(3):
        await worker._poll_tier(Tier(TierName.NORMAL, 20, ("production",)))
    assert worker.stats.polls_failed == 3
    assert "HTTP 500" in (worker.stats.last_error or "")
    assert worker.availability.online


async def test_partial_failure_marks_only_that_group_stale() -> None:
    client, rec = FakeClient(), Recorder()
    worker = make(client, rec)
    await client.setup()
    client.group_errors = {"inverters": EnvoyHTTPStatusError(500, "/x")}
    await worker._poll_groups(["production", "inverters"])
    assert worker.stale == {"inverters"}
    assert ("updated", frozenset({"production"})) in rec.events
    client.group_errors = {}
    await worker._poll_groups(["production", "inverters"])
    assert worker.stale == set()


async def test_unreachable_goes_offline_and_back_online(
    running: Callable[[EnvoyWorker], None],
) -> None:
    client, rec = FakeClient(), Recorder()
    running(make(client, rec))
    await rec.wait_for(lambda ev: ("availability", True) in ev)
    client.down = True
    await rec.wait_for(lambda ev: ("availability", False) in ev)
    client.down = False
    await rec.wait_for(lambda ev: count(ev, ("availability", True)) == 2)


async def test_auth_failure_is_offline_immediately(
    running: Callable[[EnvoyWorker], None],
) -> None:
    client, rec = FakeClient(), Recorder()
    worker = make(client, rec, intervals=(10, 20, 30))
    await client.setup()
    await worker._poll_groups(["meters"])
    assert worker.availability.online

    async def denied(groups: Sequence[str] | None = None, **_kw: object) -> UpdateResult:
        raise EnvoyAuthenticationError("token rejected")

    client.update = denied  # type: ignore[method-assign]
    await worker._poll_tier(Tier(TierName.FAST, 10, ("meters",)))
    assert not worker.availability.online
    assert rec.events[-1] == ("availability", False)
    assert "token rejected" in (worker.stats.last_error or "")


async def test_firmware_change_triggers_reprobe_and_ready_again(
    running: Callable[[EnvoyWorker], None],
) -> None:
    client, rec = FakeClient(), Recorder()
    worker = make(client, rec)
    running(worker)
    await rec.wait_for(lambda ev: count(ev, ("ready", "SN1")) == 1)
    client.info_changed = True
    await rec.wait_for(lambda ev: count(ev, ("ready", "SN1")) == 2)
    assert client.setups == 1  # refresh_info re-probes by itself
    assert [t.groups for t in worker.tiers] == [("production",), ()]


async def test_execute_rereads_the_returned_groups() -> None:
    client, rec = FakeClient(), Recorder()
    worker = make(client, rec)
    await client.setup()
    groups = await worker.execute(SetReserveSoc(value=20))
    assert groups == {"tariff"}
    assert client.calls == [("execute",), ("tariff",)]
    assert ("updated", frozenset({"tariff"})) in rec.events
    assert worker.stats.commands_ok == 1


async def test_failed_execute_is_counted_and_raised() -> None:
    client, rec = FakeClient(), Recorder()
    worker = make(client, rec)
    await client.setup()
    client.down = True
    with pytest.raises(EnvoyHTTPStatusError):
        await worker.execute(SetReserveSoc(value=20))
    assert worker.stats.commands_failed == 1
    assert not [e for e in rec.events if e[0] == "updated"]


@pytest.mark.parametrize("interval", [1, 5, 60, 600])
def test_retry_budget_fits_inside_the_tier_budget(interval: float) -> None:
    tier = Tier(TierName.NORMAL, interval, ("production",))
    retries = retry_budget(tier)
    assert retries.seconds < tier.budget
    assert retries.attempts >= 2


async def test_each_poll_carries_its_tier_retry_budget() -> None:
    client, rec = FakeClient(), Recorder()
    seen: list[object] = []
    plain_update = client.update

    async def update(groups: Sequence[str] | None = None, **kw: object) -> UpdateResult:
        seen.append(kw.get("budget"))
        return await plain_update(groups)

    client.update = update  # type: ignore[method-assign]
    worker = make(client, rec, intervals=(5, 60, 600))
    await client.setup()
    await worker._poll_tier(Tier(TierName.FAST, 5, ("meters",)))
    assert seen == [retry_budget(Tier(TierName.FAST, 5, ("meters",)))]
