"""Soak: one bridge, a fleet of faulty simulated Envoys, broker restarts, a checking consumer.

Processes, all on 127.0.0.1:

* mosquitto on a random port (``persistence false``: a restart loses every retained message,
  so the bridge must re-publish everything itself);
* ``benchmarks._soakfleet``: N simulated Envoys (mixed fixtures, live values) plus a shared
  fake Enlighten cloud, so token firmware can re-fetch tokens after a reboot or a 401;
* ``benchmarks._bridge_proc``: the real ``Bridge`` polling every Envoy (token firmware with
  Enlighten credentials, legacy firmware without).

This process injects a random fault (latency, error, timeout, unauthorized, garbage,
truncated, wrong_type, huge, outage, refused, reboot — sometimes with a firmware change)
into a random Envoy every ``--fault-interval`` seconds through the simulators' control API,
restarts the broker every ``--broker-restart`` seconds, and checks everything it receives on
``#`` with :class:`~benchmarks._soakcheck.SoakChecker`. At the end all faults are cleared,
every Envoy must come back online, and the table reports RSS / open file descriptors /
asyncio tasks at start and end (psutil and ``bridge/health``), polls ok/failed, messages
published, broker-return-to-republished times and wrong values seen.

Run: ``python -m benchmarks.soak [--duration 3600] [--envoys 10]``. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import psutil
import yaml

from benchmarks._broker import Broker, running_broker
from benchmarks._common import FIXTURES_DIR, format_table, machine_facts
from benchmarks._soakcheck import SoakChecker
from benchmarks.fleet import _process, _read_fleet

DEFAULT_FIXTURES = (
    "7.6.185_with_cts_and_battery_3t",
    "8.2.127_with_3cts_and_battery_split",
    "8.3.5169_with_generator",
    "8.3.1598_collar",
    "5.0.62",
)
MIB = 1024 * 1024
HEALTH_INTERVAL = 5.0
DATA_PATHS = (
    "/ivp/meters/readings",
    "/production.json*",
    "/production",
    "/api/v1/production*",
    "/ivp/ensemble/*",
    "/ivp/pdm/*",
    "/admin/lib/tariff",
    "/inventory.json*",
    "*",
)


@dataclass
class Sample:
    """Resource use of the bridge process at one moment."""

    rss_mib: float
    fds: int
    tasks: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class Soak:
    """Everything the run observes."""

    checker: SoakChecker = field(default_factory=SoakChecker)
    health: dict[str, Any] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    connected: bool = False
    tracking: set[str] | None = None

    def seen(self, topic: str, payload: bytes) -> None:
        """Feed one message to the checker and wake waiters."""
        self.checker.add(topic, payload)
        if self.tracking is not None:
            self.tracking.add(topic)
        if topic.endswith("/bridge/health") and payload:
            with contextlib.suppress(ValueError):
                self.health = json.loads(payload)
        self.changed.set()
        self.changed = asyncio.Event()

    async def until(self, predicate: Any, within: float) -> bool:
        """Wait until ``predicate()`` holds; False on timeout."""

        async def _wait() -> None:
            while not predicate():
                await self.changed.wait()

        try:
            await asyncio.wait_for(_wait(), within)
        except TimeoutError:
            return False
        return True


async def subscribe(port: int, soak: Soak) -> None:
    """Subscribe to ``#`` forever, reconnecting while the broker restarts."""
    while True:
        try:
            async with aiomqtt.Client("127.0.0.1", port, identifier="soak-checker") as client:
                await client.subscribe("#", qos=1)
                soak.connected = True
                async for message in client.messages:
                    body = message.payload if isinstance(message.payload, bytes) else b""
                    soak.seen(str(message.topic), body)
        except aiomqtt.MqttError:
            soak.connected = False
            await asyncio.sleep(0.2)  # pacing while the broker is down


def write_config(path: Path, port: int, fleet: dict[str, Any], args: argparse.Namespace) -> None:
    """The bridge config for the fleet."""
    envoys = []
    for sim in fleet["envoys"]:
        entry: dict[str, Any] = {
            "host": sim["url"],
            "serial": sim["serial"],
            "intervals": {"fast": args.fast, "normal": args.normal, "slow": args.slow},
        }
        if sim["tokens"]:
            entry |= {"username": "owner@example.com", "password": "owner-password"}
        envoys.append(entry)
    config = {
        "mqtt": {
            "host": "127.0.0.1",
            "port": port,
            "client_id": "soak-bridge",
            "reconnect_min_delay": 0.5,
            "reconnect_max_delay": 5,
        },
        "envoys": envoys,
        "token_cache_dir": str(path.parent / "tokens"),
        "enlighten": {
            "login_url": f"{fleet['cloud']}/login/login.json",
            "token_url": f"{fleet['cloud']}/tokens",
        },
        "publish": {"health_interval": HEALTH_INTERVAL},
        "logging": {"level": args.log_level},
    }
    path.write_text(yaml.safe_dump(config))


FAULT_KINDS = (
    "latency",
    "error",
    "timeout",
    "unauthorized",
    "garbage",
    "truncated",
    "wrong_type",
    "huge",
    "outage",
    "refused",
    "reboot",
)


def random_fault(rng: random.Random, firmware: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    """One fault for the control API, with scaled-down durations."""
    kind = rng.choice(kinds)
    path = rng.choice(DATA_PATHS)
    if kind == "latency":
        return {
            "kind": kind,
            "path": "/production.json*",
            "seconds": rng.uniform(5, 30),
            "duration": rng.uniform(30, 120),
        }
    if kind == "error":
        return {
            "kind": kind,
            "path": path,
            "count": rng.randint(1, 6),
            "status": rng.choice([500, 502, 503]),
        }
    if kind == "timeout":
        return {"kind": kind, "path": path, "count": rng.randint(1, 3), "seconds": 60}
    if kind == "unauthorized":
        return {"kind": kind, "path": path, "count": rng.randint(1, 2)}
    if kind in ("garbage", "truncated", "wrong_type"):
        return {"kind": kind, "path": path, "count": rng.randint(1, 4)}
    if kind == "huge":
        return {"kind": kind, "path": path, "count": 1, "size": 8 * MIB}
    if kind == "outage":
        return {"kind": kind, "seconds": rng.uniform(20, 120)}
    if kind == "refused":
        return {"kind": kind, "seconds": rng.uniform(5, 60)}
    fault: dict[str, Any] = {"kind": kind, "seconds": rng.uniform(0, 20)}
    if rng.random() < 0.3:
        parts = firmware.lstrip("DRdr").split(".")
        parts[-1] = str(int(parts[-1]) + 1)
        fault["firmware"] = ".".join(parts)
    return fault


async def control(
    http: aiohttp.ClientSession, url: str, method: str, path: str, body: Any = None
) -> Any:
    """Call a simulator's control API (None when it does not answer, e.g. while refusing)."""
    try:
        async with http.request(method, f"{url}/__sim__/{path}", json=body, ssl=False) as resp:
            return await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


async def inject_faults(
    fleet: dict[str, Any], soak: Soak, rng: random.Random, args: argparse.Namespace
) -> None:
    """Forever: every ``interval`` s one random fault into one random Envoy."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while True:
            await asyncio.sleep(args.fault_interval)
            sim = rng.choice(fleet["envoys"])
            status = await control(http, sim["url"], "GET", "status")
            if not isinstance(status, dict):
                soak.faults.append(f"{sim['serial']} skipped (not answering)")
                continue
            fault = random_fault(rng, str(status.get("firmware", "8.0.0")), args.kinds)
            answer = await control(http, sim["url"], "POST", "faults", fault)
            soak.faults.append(f"{sim['serial']} {fault} -> {'ok' if answer else 'failed'}")


async def restart_broker(broker: Broker, soak: Soak, interval: float, stop: asyncio.Event) -> None:
    """Until ``stop``: every ``interval`` s restart the broker; time how long state takes to return.

    Back = ``bridge/state`` online again and every Envoy's availability and discovery config
    seen again since the broker returned (the broker lost everything: no persistence). A
    restart already under way when ``stop`` is set is still timed to its end (bounded), so
    the report never drops a restart it caused.
    """
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if stop.is_set():
            return
        serials = [s for s, up in soak.checker.online.items() if up]
        expected = [t for t in soak.checker.last if _republished_kind(t, serials)]
        broker.stop()
        await asyncio.to_thread(broker.start)
        back_at = time.monotonic()
        seen_before = soak.checker.counts["messages"]
        seen: set[str] = set()
        soak.tracking = seen
        ok = await soak.until(functools.partial(set(expected).issubset, seen), 60)
        soak.tracking = None
        took = time.monotonic() - back_at if ok else float("inf")
        soak.restarts.append(took)
        missing = len(set(expected) - seen)
        print(
            f"# broker restart: {len(expected)} topics back in {took:.1f}s "
            f"(missing {missing}, messages since {soak.checker.counts['messages'] - seen_before})",
            flush=True,
        )


def _republished_kind(topic: str, serials: list[str]) -> bool:
    if topic.endswith("/bridge/state"):
        return True
    if topic.startswith("homeassistant/"):
        return any(s in topic for s in serials)
    return any(topic.endswith(f"/{s}/availability") for s in serials)


def sample(proc: psutil.Process, soak: Soak) -> Sample:
    """Bridge RSS and fds now (psutil), tasks from the newest ``bridge/health``."""
    return Sample(proc.memory_info().rss / MIB, proc.num_fds(), int(soak.health.get("tasks", -1)))


async def run(args: argparse.Namespace) -> int:
    """The whole soak; returns the exit status (1 when wrong values or a crash were seen)."""
    fixtures = [FIXTURES_DIR / name for name in args.fixture or DEFAULT_FIXTURES]
    rng = random.Random(args.seed)
    soak = Soak()
    soak.checker.verbose = True  # a wrong value is printed when it is seen, with its time
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, running_broker(Path(tmp)) as broker:
        work = Path(tmp)
        sim_cmd = [sys.executable, "-m", "benchmarks._soakfleet", "--workdir", str(work / "sims")]
        sim_cmd += ["--count", str(args.envoys)]
        for fixture in fixtures:
            sim_cmd += ["--fixture", str(fixture)]
        with _process(sim_cmd, stdout=subprocess.PIPE) as sims:
            fleet = _read_fleet_obj(sims)
            config = work / "config.yaml"
            write_config(config, broker.port, fleet, args)
            log_path = Path(args.keep_log) if args.keep_log else work / "bridge.log"
            serials = {s["serial"] for s in fleet["envoys"]}
            listener = asyncio.create_task(subscribe(broker.port, soak))
            with (
                log_path.open("wb") as log_file,
                _process(
                    [sys.executable, "-m", "benchmarks._bridge_proc", str(config)],
                    stderr=log_file,
                    stdout=subprocess.DEVNULL,
                ) as bridge,
            ):
                proc = psutil.Process(bridge.pid)
                online = await soak.until(
                    lambda: all(soak.checker.online.get(s) for s in serials) and soak.health,
                    args.ready_timeout,
                )
                print(f"# fleet online: {online} ({machine_facts()})", flush=True)
                await asyncio.sleep(args.warmup)
                start, start_health = sample(proc, soak), dict(soak.health)
                stop_restarts = asyncio.Event()
                restarter = asyncio.create_task(
                    restart_broker(broker, soak, args.broker_restart, stop_restarts)
                )
                workers = [
                    asyncio.create_task(inject_faults(fleet, soak, rng, args)),
                    asyncio.create_task(progress(proc, soak, args.report_interval)),
                ]
                await asyncio.sleep(args.duration)
                stop_restarts.set()
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, restarter, return_exceptions=True)
                await clear_faults(fleet)
                recovered = await soak.until(
                    lambda: all(soak.checker.online.get(s) for s in serials), args.ready_timeout
                )
                before = soak.health  # the end figures come from a report sent after recovery
                await soak.until(lambda: soak.health is not before, 2 * HEALTH_INTERVAL + 5)
                end, end_health = sample(proc, soak), dict(soak.health)
                bridge.send_signal(signal.SIGTERM)
                exit_code = await asyncio.to_thread(bridge.wait, 30)
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        log_text = log_path.read_text(errors="replace")
    print_report(args, soak, start, end, start_health, end_health, recovered, exit_code, log_text)
    crashed = exit_code != 0 or "Traceback" in log_text
    return 1 if soak.checker.wrong_total or crashed or not recovered else 0


def _read_fleet_obj(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(b"{"):
        return {"envoys": _read_fleet(proc, 60), "cloud": ""}
    fleet: dict[str, Any] = json.loads(line)
    return fleet


async def clear_faults(fleet: dict[str, Any]) -> None:
    """Remove every fault rule (refused/reboot downtimes end by themselves)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        for sim in fleet["envoys"]:
            await control(http, sim["url"], "DELETE", "faults")


async def progress(proc: psutil.Process, soak: Soak, interval: float) -> None:
    """A progress line every ``interval`` s (the log of a long run shows trends)."""
    t0 = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        now = sample(proc, soak)
        polls = _polls(soak.health)
        print(
            f"# t={time.monotonic() - t0:.0f}s rss={now.rss_mib:.1f}MiB fds={now.fds} "
            f"tasks={now.tasks} polls_ok={polls[0]} polls_failed={polls[1]} "
            f"messages={soak.checker.counts['messages']} faults={len(soak.faults)} "
            f"wrong={soak.checker.wrong_total}",
            flush=True,
        )


def _polls(health: dict[str, Any]) -> tuple[int, int]:
    envoys = health.get("envoys", [])
    return sum(e.get("polls_ok", 0) for e in envoys), sum(e.get("polls_failed", 0) for e in envoys)


def print_report(
    args: argparse.Namespace,
    soak: Soak,
    start: Sample,
    end: Sample,
    start_health: dict[str, Any],
    end_health: dict[str, Any],
    recovered: bool,
    exit_code: int,
    log_text: str,
) -> None:
    """The result table, the wrong-value examples and the fault kinds injected."""
    ok, failed = _polls(end_health)
    ok0, failed0 = _polls(start_health)
    restarts = soak.restarts
    worst = max(restarts) if restarts else 0.0
    lines = log_text.splitlines()
    rows = [
        ["duration (s)", f"{args.duration:.0f}"],
        ["Envoys", str(args.envoys)],
        ["RSS start / end (MiB)", f"{start.rss_mib:.1f} / {end.rss_mib:.1f}"],
        ["open fds start / end", f"{start.fds} / {end.fds}"],
        ["asyncio tasks start / end", f"{start.tasks} / {end.tasks}"],
        ["polls ok / failed (soak window)", f"{ok - ok0} / {failed - failed0}"],
        ["messages published (bridge counter)", str(end_health.get("messages_published", 0))],
        ["messages received by the checker", str(soak.checker.counts["messages"])],
        ["state messages checked", str(soak.checker.counts["state_messages"])],
        ["lifetime values checked", str(soak.checker.counts["lifetime_values"])],
        ["lifetime resets accepted (after reboots)", str(soak.checker.counts["lifetime_resets"])],
        [
            "gateway stale-list updates while offline",
            str(soak.checker.counts["gateway_stale_updates_while_offline"]),
        ],
        ["faults injected", str(len(soak.faults))],
        ["broker restarts / worst return (s)", f"{len(restarts)} / {worst:.1f}"],
        ["all Envoys online after faults cleared", str(recovered)],
        ["bridge exit code (SIGTERM)", str(exit_code)],
        ["log lines WARNING / ERROR / Traceback", _log_counts(lines)],
        ["wrong values seen", str(soak.checker.wrong_total)],
    ]
    print(format_table(["measure", "value"], rows))
    if soak.checker.wrong:
        print("\nwrong values by kind:", dict(soak.checker.wrong))
        for example in soak.checker.examples:
            print("  ", example)
    kinds: dict[str, int] = {}
    for fault in soak.faults:
        kind = fault.split("'kind': '")[1].split("'")[0] if "'kind': '" in fault else "skipped"
        kinds[kind] = kinds.get(kind, 0) + 1
    print("\nfaults by kind:", dict(sorted(kinds.items())))


def _log_counts(lines: list[str]) -> str:
    warn = sum(1 for line in lines if " WARNING " in line)
    err = sum(1 for line in lines if " ERROR " in line)
    tb = sum(1 for line in lines if "Traceback" in line)
    return f"{warn} / {err} / {tb}"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=3600.0, help="seconds of faults")
    parser.add_argument("--envoys", type=int, default=10)
    parser.add_argument("--fixture", action="append", help="repeatable; default: a mix")
    parser.add_argument("--fault-interval", type=float, default=20.0)
    parser.add_argument(
        "--kinds",
        type=lambda text: tuple(k.strip() for k in text.split(",")),
        default=FAULT_KINDS,
        help=f"comma-separated fault kinds (default: all of {','.join(FAULT_KINDS)})",
    )
    parser.add_argument("--broker-restart", type=float, default=900.0)
    parser.add_argument("--fast", type=float, default=2.0)
    parser.add_argument("--normal", type=float, default=10.0)
    parser.add_argument("--slow", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--ready-timeout", type=float, default=180.0)
    parser.add_argument("--report-interval", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.add_argument("--keep-log", help="write the bridge's log here")
    args = parser.parse_args(argv)
    if args.envoys < 1 or args.duration <= 0:
        parser.error("--envoys must be >= 1 and --duration > 0")
    if not args.kinds or set(args.kinds) - set(FAULT_KINDS):
        parser.error(f"--kinds must name some of: {', '.join(FAULT_KINDS)}")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
