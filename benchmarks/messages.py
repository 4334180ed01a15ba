"""MQTT messages per hour on a replayed day: change-only (the bridge) vs publish-every-poll.

A day of device states is synthesised from one fixture (see ``benchmarks/_day.py``: solar
curve, mostly-flat night, meters with fresh timestamps every reading). It is replayed on a
simulated clock through the bridge's *real* publishing path: ``EnvoyPublisher.update`` after
every tier poll (fast/normal/slow, groups per ``bridge.schedule.plan_tiers``), which builds
the catalogue's state and discovery payloads, runs the lifetime guard and hands everything
to ``StatePublisher`` — whose change detection and periodic re-publish decide what is sent.
Only the broker is replaced by a counter. The two modes differ in one knob:

* ``change-only``: ``StatePublisher(republish_interval=<config default 300 s>)`` plus its
  periodic ``republish_due()`` every interval/10, as the bridge runs it;
* ``every-poll``: ``StatePublisher(republish_interval=0)``, so every payload of every pass is
  sent (what a bridge without change detection does).

Before each poll, only the fields of the polled tier's groups (``envoy.groups``) are
copied from the synthetic device into the bridge's data, as the real collector does.

Run: ``python -m benchmarks.messages [--fixture NAME] [--hours 24] [--fast 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import msgspec

from benchmarks._common import FIXTURES_DIR, format_table, machine_facts
from benchmarks._day import DAY_START_EPOCH, DayProfile
from benchmarks.decode import MemoryFetcher
from envoy2mqtt.bridge.lifetime_guard import LifetimeGuard
from envoy2mqtt.bridge.publish import EnvoyPublisher, EnvoyView
from envoy2mqtt.bridge.schedule import plan_tiers
from envoy2mqtt.bridge.tariff_watch import TariffWatch
from envoy2mqtt.catalog.discovery import DiscoveryOptions
from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.envoy.firmware import EnvoyInfo, parse_info
from envoy2mqtt.envoy.groups import DATA_GROUPS, group_fields
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.probe import DataCollector, ProbeResult
from envoy2mqtt.envoy.snapshot import EnvoySnapshot
from envoy2mqtt.mqtt.publisher import StatePublisher
from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore

if TYPE_CHECKING:
    from envoy2mqtt.bridge.worker import EnvoyWorker

DEFAULT_FIXTURES = ("7.6.185_with_cts_and_battery_3t", "8.3.5169_with_generator")
DISCOVERY_PREFIX = "homeassistant"


class CountingBroker:
    """Stands in for the MQTT session: counts what would be sent, by kind and hour."""

    def __init__(self, clock: list[float]) -> None:
        """Count against the simulated ``clock`` (seconds since midnight in ``clock[0]``)."""
        self._clock = clock
        self.kinds: Counter[str] = Counter()
        self.kind_bytes: Counter[str] = Counter()
        self.bytes = 0
        self.per_hour: Counter[int] = Counter()
        self.per_topic: Counter[str] = Counter()
        self.republishing = False

    async def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 0, retain: bool = False
    ) -> bool:
        """Count one message; always "delivered"."""
        if topic.startswith(f"{DISCOVERY_PREFIX}/"):
            kind = "discovery"
        elif topic.endswith("/availability"):
            kind = "availability"
        else:
            kind = "state"
        if self.republishing:
            kind += " (periodic re-publish)"
        self.kinds[kind] += 1
        self.kind_bytes[kind] += len(payload)
        self.bytes += len(payload)
        self.per_hour[int(self._clock[0] // 3600)] += 1
        levels = topic.split("/")
        # <base>/<sn>/<suffix...>: group by suffix; discovery topics by their kind level.
        self.per_topic[
            f"{kind}: " + "/".join(levels[2:] if kind.startswith("state") else levels[:2])
        ] += 1
        return True


@dataclasses.dataclass
class _Stats:
    last_poll_at: float | None = None


@dataclasses.dataclass
class _Client:
    """Makes snapshots the way ``EnvoyClient.snapshot`` does (a copy of the working data)."""

    info: EnvoyInfo
    probe_result: ProbeResult
    data: EnvoyData
    seq: int = 0

    def snapshot(self) -> EnvoySnapshot:
        self.seq += 1
        return EnvoySnapshot(
            seq=self.seq,
            info=self.info,
            probe=self.probe_result,
            data=msgspec.structs.replace(self.data),
        )


@dataclasses.dataclass
class _Worker:
    """The attributes of ``EnvoyWorker`` that the publishing path reads."""

    client: _Client
    host: str = "127.0.0.1"
    name: str | None = None
    stats: _Stats = dataclasses.field(default_factory=_Stats)
    stale: set[str] = dataclasses.field(default_factory=set)
    first_round_done: bool = True
    tariff_watch: TariffWatch = dataclasses.field(default_factory=TariffWatch)

    @property
    def serial(self) -> str:
        return self.client.info.serial


@dataclasses.dataclass
class DayResult:
    """Messages of one replayed day in one mode."""

    fixture: str
    mode: str
    hours: float
    kinds: Counter[str]
    kind_bytes: Counter[str]
    total: int
    bytes: int
    per_hour: Counter[int]
    per_topic: Counter[str]

    @property
    def per_hour_avg(self) -> float:
        """Average messages per hour."""
        return self.total / self.hours


async def _probe(fixture: Path) -> tuple[EnvoyInfo, ProbeResult]:
    fetcher = MemoryFetcher(FixtureStore(fixture, FixtureMode.GOLDEN))
    info = parse_info((await fetcher.request("GET", "/info")).body)
    return info, await DataCollector(info).probe(fetcher)


async def replay_day(
    fixture: Path,
    *,
    every_poll: bool,
    hours: float,
    intervals: tuple[int, int, int],
    republish_interval: float,
    seed: int,
) -> DayResult:
    """Replay ``hours`` of the synthetic day through the real publishing path and count."""
    expected: dict[str, Any] = json.loads((fixture / "expected.json").read_bytes())
    info, probe = await _probe(fixture)
    clock = [0.0]
    broker = CountingBroker(clock)
    publisher = StatePublisher(
        broker, republish_interval=0.0 if every_poll else republish_interval, clock=lambda: clock[0]
    )
    output = EnvoyPublisher(
        publisher,
        Topics(),
        LifetimeGuard(),
        DiscoveryOptions(discovery_prefix=DISCOVERY_PREFIX),
    )
    output.scan_done.set()  # no previous run: nothing to scan for orphans
    profile = DayProfile(expected["data"], seed=seed)
    fake = _Worker(_Client(info, probe, msgspec.convert(profile.advance(0), EnvoyData)))
    # The publishing path only reads the attributes _Worker has (duck typing).
    worker = cast("EnvoyWorker", fake)
    view = EnvoyView()
    fake.stats.last_poll_at = DAY_START_EPOCH
    await output.announce(
        worker, view, fake.client.snapshot()
    )  # what the bridge publishes right after probing
    tiers = plan_tiers(*intervals, probe.groups)
    republish_tick = max(republish_interval / 10, 0.01)
    next_republish = republish_tick
    for t in range(0, int(hours * 3600), intervals[0]):
        clock[0] = float(t)
        if not every_poll:
            while next_republish <= t:
                broker.republishing = True
                await publisher.republish_due()
                broker.republishing = False
                next_republish += republish_tick
        device = msgspec.convert(profile.advance(t), EnvoyData)
        for tier in tiers:
            if t % int(tier.interval):
                continue
            for group in tier.groups:
                for name in group_fields(group) if group in DATA_GROUPS else ():
                    setattr(fake.client.data, name, getattr(device, name))
            fake.stats.last_poll_at = DAY_START_EPOCH + t
            await output.update(worker, view, fake.client.snapshot(), set(tier.groups))
    total = sum(broker.kinds.values())
    return DayResult(
        fixture.name,
        "every-poll" if every_poll else "change-only",
        hours,
        broker.kinds,
        broker.kind_bytes,
        total,
        broker.bytes,
        broker.per_hour,
        broker.per_topic,
    )


def render(results: list[DayResult]) -> str:
    """Summary per fixture and mode, then the hour-by-hour profile of the first fixture."""
    rows = []
    for r in results:
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(r.kinds.items()))
        rows.append(
            [
                r.fixture,
                r.mode,
                f"{r.per_hour_avg:.0f}",
                f"{r.bytes / r.hours / 1024:.0f}",
                str(r.total),
                kinds,
            ]
        )
    out = [
        format_table(["fixture", "mode", "msgs/hour", "KiB/hour", "msgs total", "by kind"], rows)
    ]
    out.append("")
    for r in results:
        shares = ", ".join(
            f"{k}={v / max(1, r.bytes):.0%}" for k, v in sorted(r.kind_bytes.items())
        )
        out.append(f"bytes by kind, {r.fixture} {r.mode}: {shares}")
    by_fixture: dict[str, dict[str, DayResult]] = {}
    for r in results:
        by_fixture.setdefault(r.fixture, {})[r.mode] = r
    out.append("")
    for fixture, modes in by_fixture.items():
        if {"change-only", "every-poll"} <= set(modes):
            change, every = modes["change-only"], modes["every-poll"]
            out.append(
                f"{fixture}: change-only sends {change.total / every.total:.1%} of the "
                f"every-poll messages ({every.total / max(1, change.total):.1f}x fewer)"
            )
    first = next(iter(by_fixture.values()), {})
    if {"change-only", "every-poll"} <= set(first):
        change, every = first["change-only"], first["every-poll"]
        hours = sorted(set(change.per_hour) | set(every.per_hour))
        hourly = [[f"{h:02d}:00", str(change.per_hour[h]), str(every.per_hour[h])] for h in hours]
        top = [[t, str(n)] for t, n in change.per_topic.most_common(10)]
        out += ["", f"top topics, change-only ({change.fixture}):"]
        out.append(format_table(["kind: topic suffix", "messages"], top))
        out += ["", f"hour by hour ({change.fixture}):"]
        out.append(format_table(["hour (UTC)", "change-only", "every-poll"], hourly))
    return "\n".join(out)


async def main_async(args: argparse.Namespace) -> int:
    """Replay the day for each fixture in both modes and print the tables."""
    intervals = (args.fast, args.normal, args.slow)
    print(
        f"# messages benchmark: {args.hours} h replayed, intervals fast/normal/slow="
        f"{args.fast}/{args.normal}/{args.slow} s, republish_interval={args.republish} s"
    )
    print(f"# {machine_facts()}")
    results = []
    for name in args.fixture or DEFAULT_FIXTURES:
        fixture = FIXTURES_DIR / name
        if not (fixture / "expected.json").is_file():
            raise SystemExit(f"unknown fixture: {name}")
        results += [
            await replay_day(
                fixture,
                every_poll=every_poll,
                hours=args.hours,
                intervals=intervals,
                republish_interval=args.republish,
                seed=args.seed,
            )
            for every_poll in (False, True)
        ]
    print(render(results))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="MQTT messages per hour on a replayed day")
    parser.add_argument("--fixture", action="append", help="fixture dir name (repeatable)")
    parser.add_argument("--hours", type=float, default=24.0, help="hours replayed from 00:00")
    parser.add_argument("--fast", type=int, default=5, help="fast tier interval (s)")
    parser.add_argument("--normal", type=int, default=60, help="normal tier interval (s)")
    parser.add_argument("--slow", type=int, default=600, help="slow tier interval (s)")
    parser.add_argument("--republish", type=float, default=300.0, help="republish_interval (s)")
    parser.add_argument("--seed", type=int, default=1, help="weather seed")
    args = parser.parse_args(argv)
    if not 0 < args.hours <= 24:
        parser.error("--hours must be in (0, 24]")
    if args.fast < 1 or args.normal % args.fast or args.slow % args.fast:
        parser.error("--fast must be >= 1 and divide --normal and --slow")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
