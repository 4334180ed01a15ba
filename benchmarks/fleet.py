"""Bridge CPU and memory with a fleet of N simulated Envoys against a real mosquitto.

Three processes besides this one, all on 127.0.0.1:

* mosquitto on a random port;
* ``benchmarks._simfleet``: N simulated Envoys (copies of one fixture with distinct serials,
  live values on) — a separate process so that their CPU is not the bridge's;
* ``benchmarks._bridge_proc``: the real ``Bridge`` with one configured Envoy per simulator
  (token auth over HTTPS for firmware >= 7) and the given poll intervals.

This process subscribes to ``envoy2mqtt/#``, waits until every Envoy's availability is
``online``, lets the bridge run ``--warmup`` seconds more, then measures the bridge process
alone (psutil) over ``--window`` seconds: CPU time / wall time (% of one core) and RSS
(sampled every second). Targets: 200 Envoys <= 50 % of a core and <= 150 MB; 1 Envoy <= 40 MB.

``--instances N`` splits the same fleet over N bridge processes on the one broker, all
reading the same config file and differing only by ``ENVOY2MQTT_INSTANCE=b<k>`` and
``ENVOY2MQTT_SHARD=<k>/N`` (docs/fleet.md); CPU, RSS and USS are then the sums over the
N processes, with the largest single instance alongside.

Run: ``python -m benchmarks.fleet --envoys 1 --envoys 50 --envoys 200 [--window 60]
[--instances 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml

from benchmarks._broker import mosquitto
from benchmarks._common import FIXTURES_DIR, REPO_ROOT, format_table, machine_facts
from benchmarks._mqttwatch import watching

DEFAULT_FIXTURE = "7.6.185_with_cts_and_battery_3t"
MIB = 1024 * 1024


@dataclass
class FleetResult:
    """One measured fleet size."""

    envoys: int
    online: int
    cpu_pct: float
    rss_mib_end: float
    rss_mib_max: float
    uss_mib_end: float
    tcp_max: int
    msgs_per_s: float
    sim_cpu_pct: float
    log_warnings: int
    window_s: float
    instances: int = 1
    cpu_pct_max: float = 0.0
    rss_mib_max_one: float = 0.0
    per_instance: list[tuple[int, float, float]] = field(default_factory=list)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(extra or {})}


@contextlib.contextmanager
def _process(
    args: list[str], env: dict[str, str] | None = None, **kwargs: Any
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, env=_env(env), cwd=REPO_ROOT, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _read_fleet(proc: subprocess.Popen[bytes], timeout: float) -> list[dict[str, Any]]:
    """The simulator fleet's one-line JSON announcement."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("simulator fleet exited before announcing itself")
        if line.startswith(b"["):
            described: list[dict[str, Any]] = json.loads(line)
            return described
    raise RuntimeError("simulator fleet did not announce itself in time")


def write_config(
    path: Path,
    mqtt_port: int,
    fleet: list[dict[str, Any]],
    intervals: tuple[float, float, float],
    *,
    named: bool = False,
) -> None:
    """The bridge config: one Envoy per simulator, the given intervals, info logging.

    ``named``: the file is shared by named instances, so the client id is left to its
    per-instance default (``envoy2mqtt-<instance>``).
    """
    fast, normal, slow = intervals
    envoys = []
    for sim in fleet:
        entry: dict[str, Any] = {
            "host": sim["url"],
            "serial": sim["serial"],
            "intervals": {"fast": fast, "normal": normal, "slow": slow},
        }
        if sim.get("token"):
            entry["token"] = sim["token"]
        envoys.append(entry)
    mqtt: dict[str, Any] = {"host": "127.0.0.1", "port": mqtt_port}
    if not named:
        mqtt["client_id"] = "bench-bridge"
    config = {
        "mqtt": mqtt,
        "envoys": envoys,
        "token_cache_dir": str(path.parent / "tokens"),
        "logging": {"level": "info"},
    }
    path.write_text(yaml.safe_dump(config))


@dataclass
class Measured:
    """One measurement window over the bridge process(es); sums over instances."""

    cpu: list[float]
    rss_end: list[float]
    rss_max: list[float]
    uss_end: list[float]
    sim_cpu: float
    tcp_max: int


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def _measure(pids: list[int], sim_pid: int, window: float) -> Measured:
    """CPU %, RSS/USS MiB per bridge process, simulators' CPU %, max TCP (all bridges)."""
    bridges, sims = [psutil.Process(p) for p in pids], psutil.Process(sim_pid)
    c0, s0, t0 = [_cpu(b) for b in bridges], _cpu(sims), time.monotonic()
    rss_max = [0] * len(bridges)
    tcp_max = 0
    while time.monotonic() - t0 < window:
        for index, bridge in enumerate(bridges):
            rss_max[index] = max(rss_max[index], bridge.memory_info().rss)
        tcp_max = max(tcp_max, sum(len(b.net_connections(kind="tcp")) for b in bridges))
        await asyncio.sleep(1.0)
    elapsed = time.monotonic() - t0
    cpu = [(_cpu(b) - c) / elapsed * 100 for b, c in zip(bridges, c0, strict=True)]
    sim_cpu = (_cpu(sims) - s0) / elapsed * 100
    rss_end = [b.memory_info().rss / MIB for b in bridges]
    # USS: private pages, what each process alone costs
    uss_end = [b.memory_full_info().uss / MIB for b in bridges]
    rss_top = [max(m / MIB, e) for m, e in zip(rss_max, rss_end, strict=True)]
    return Measured(cpu, rss_end, rss_top, uss_end, sim_cpu, tcp_max)


def _instance_env(index: int, instances: int) -> dict[str, str] | None:
    """Environment of bridge number ``index`` (1-based); None for a single bridge."""
    if instances == 1:
        return None
    return {"ENVOY2MQTT_INSTANCE": f"b{index}", "ENVOY2MQTT_SHARD": f"{index}/{instances}"}


async def _await_online(watch: Any, serials: set[str], within: float) -> None:
    try:
        await watch.wait_until(lambda: serials <= watch.online, within=within)
    except TimeoutError:
        print(
            f"# warning: only {len(watch.online & serials)}/{len(serials)} Envoys "
            "online before the timeout; measuring anyway",
            file=sys.stderr,
        )


async def run_fleet(args: argparse.Namespace, count: int) -> FleetResult:
    """Measure the bridge(s) with ``count`` simulated Envoys."""
    fixture = FIXTURES_DIR / args.fixture
    intervals = (args.fast, args.normal, args.slow)
    instances = args.instances
    with (
        tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp,
        mosquitto(tcp_nodelay=args.broker_nodelay) as mqtt_port,
    ):
        work = Path(tmp)
        sim_cmd = [sys.executable, "-m", "benchmarks._simfleet", "--fixture", str(fixture)]
        sim_cmd += ["--count", str(count), "--workdir", str(work / "sims"), "--live"]
        with _process(sim_cmd, stdout=subprocess.PIPE) as sims:
            fleet = _read_fleet(sims, timeout=60 + count)
            config = work / "config.yaml"
            write_config(config, mqtt_port, fleet, intervals, named=instances > 1)
            logs = [work / f"bridge-{i}.log" for i in range(1, instances + 1)]
            with contextlib.ExitStack() as stack:
                bridges = [
                    stack.enter_context(
                        _process(
                            [sys.executable, "-m", "benchmarks._bridge_proc", str(config)],
                            env=_instance_env(index, instances),
                            stderr=stack.enter_context(log.open("wb")),
                            stdout=subprocess.DEVNULL,
                        )
                    )
                    for index, log in enumerate(logs, start=1)
                ]
                # The watcher is an MQTT client in *this* process, not in the bridges'.
                async with watching(mqtt_port) as watch:
                    serials = {s["serial"] for s in fleet}
                    await _await_online(watch, serials, args.ready_timeout + count)
                    await asyncio.sleep(args.warmup)
                    since = time.time()
                    measured = await _measure([b.pid for b in bridges], sims.pid, args.window)
                    msgs = watch.count_since(since)
                    online = len(watch.online & serials)
            texts = [log.read_text(errors="replace") for log in logs]
            warnings = sum(
                1
                for text in texts
                for line in text.splitlines()
                if " WARNING " in line or " ERROR " in line
            )
            if args.keep_log:
                for log, text in zip(logs, texts, strict=True):
                    suffix = "" if instances == 1 else f"-{log.stem.rsplit('-', 1)[1]}of{instances}"
                    kept = Path(args.keep_log) / f"bridge-{count}{suffix}.log"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_text(text)
            served = [_served(text) for text in texts]
    m = measured
    return FleetResult(
        count,
        online,
        sum(m.cpu),
        sum(m.rss_end),
        sum(m.rss_max),
        sum(m.uss_end),
        m.tcp_max,
        msgs / args.window,
        m.sim_cpu,
        warnings,
        args.window,
        instances=instances,
        cpu_pct_max=max(m.cpu),
        rss_mib_max_one=max(m.rss_max),
        per_instance=list(zip(served, m.cpu, m.rss_max, strict=True)),
    )


def _served(log_text: str) -> int:
    """Envoys a bridge became ready for (its ``envoy ready`` log lines)."""
    return sum(1 for line in log_text.splitlines() if " envoy ready " in line)


def render(results: list[FleetResult]) -> str:
    """The per-fleet-size table (sums over the instances when split)."""
    rows = [
        [
            str(r.envoys),
            f"{r.online}/{r.envoys}",
            f"{r.cpu_pct:.1f}",
            f"{r.rss_mib_end:.1f}",
            f"{r.rss_mib_max:.1f}",
            f"{r.uss_mib_end:.1f}",
            str(r.tcp_max),
            f"{r.msgs_per_s:.1f}",
            f"{r.sim_cpu_pct:.1f}",
            str(r.log_warnings),
            str(r.instances),
            f"{r.cpu_pct_max:.1f}",
            f"{r.rss_mib_max_one:.1f}",
            " ".join(f"{n}:{c:.1f}%/{m:.0f}MiB" for n, c, m in r.per_instance),
        ]
        for r in results
    ]
    headers = [
        "envoys",
        "online",
        "bridge CPU % of 1 core",
        "RSS MiB (end)",
        "RSS MiB (max)",
        "USS MiB (end)",
        "bridge TCP conns (max)",
        "MQTT msgs/s",
        "simulators CPU %",
        "bridge log warnings+errors",
        "instances",
        "largest instance CPU %",
        "largest instance RSS MiB",
        "per instance: envoys:CPU/RSS",
    ]
    return format_table(headers, rows)


async def main_async(args: argparse.Namespace) -> int:
    """Run each fleet size in turn and print the table."""
    print(
        f"# fleet benchmark: fixture={args.fixture} intervals={args.fast}/{args.normal}/"
        f"{args.slow} s warm-up={args.warmup} s window={args.window} s "
        f"mosquitto set_tcp_nodelay={args.broker_nodelay} instances={args.instances}"
    )
    print(f"# {machine_facts()} load-average={os.getloadavg()[0]:.2f}")
    results = []
    for count in args.envoys or [1]:
        result = await run_fleet(args, count)
        results.append(result)
        print(f"# done envoys={count} cpu={result.cpu_pct:.1f}% rss={result.rss_mib_max:.1f}MiB")
    print(render(results))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="bridge CPU/RSS with N simulated Envoys")
    parser.add_argument("--envoys", type=int, action="append", help="fleet size (repeatable)")
    parser.add_argument("--fixture", default=DEFAULT_FIXTURE, help="fixture every Envoy serves")
    parser.add_argument("--fast", type=float, default=10.0, help="fast tier interval (s)")
    parser.add_argument("--normal", type=float, default=60.0, help="normal tier interval (s)")
    parser.add_argument("--slow", type=float, default=600.0, help="slow tier interval (s)")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds after all online")
    parser.add_argument("--window", type=float, default=60.0, help="measured seconds")
    parser.add_argument(
        "--ready-timeout", type=float, default=60.0, help="seconds (+1 per Envoy) to get online"
    )
    parser.add_argument("--keep-log", help="copy each bridge log to this directory")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="split the fleet over N named bridge processes (instance b<k>, shard k/N)",
    )
    parser.add_argument(
        "--broker-nodelay", action="store_true", help="mosquitto set_tcp_nodelay true"
    )
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.envoys or []) or args.window <= 0 or args.warmup < 0:
        parser.error("--envoys must be >= 1, --window > 0, --warmup >= 0")
    if args.instances < 1:
        parser.error("--instances must be >= 1")
    if not (FIXTURES_DIR / args.fixture / "info").is_file():
        parser.error(f"unknown fixture: {args.fixture}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
