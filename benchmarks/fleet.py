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

Run: ``python -m benchmarks.fleet --envoys 1 --envoys 50 --envoys 200 [--window 60]``.
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
from dataclasses import dataclass
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


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@contextlib.contextmanager
def _process(args: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, env=_env(), cwd=REPO_ROOT, **kwargs)
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
    path: Path, mqtt_port: int, fleet: list[dict[str, Any]], intervals: tuple[float, float, float]
) -> None:
    """The bridge config: one Envoy per simulator, the given intervals, info logging."""
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
    config = {
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": "bench-bridge"},
        "envoys": envoys,
        "token_cache_dir": str(path.parent / "tokens"),
        "logging": {"level": "info"},
    }
    path.write_text(yaml.safe_dump(config))


async def _measure(
    pid: int, sim_pid: int, window: float
) -> tuple[float, float, float, float, float, int]:
    """(bridge CPU %, RSS MiB end, RSS MiB max, USS MiB end, simulators CPU %, max TCP)."""
    bridge, sims = psutil.Process(pid), psutil.Process(sim_pid)
    c0, s0, t0 = bridge.cpu_times(), sims.cpu_times(), time.monotonic()
    rss_max = tcp_max = 0
    while time.monotonic() - t0 < window:
        rss_max = max(rss_max, bridge.memory_info().rss)
        tcp_max = max(tcp_max, len(bridge.net_connections(kind="tcp")))
        await asyncio.sleep(1.0)
    c1, s1, elapsed = bridge.cpu_times(), sims.cpu_times(), time.monotonic() - t0
    rss_end = bridge.memory_info().rss
    uss_end = bridge.memory_full_info().uss  # private pages: what this process alone costs
    cpu = (c1.user + c1.system - c0.user - c0.system) / elapsed * 100
    sim_cpu = (s1.user + s1.system - s0.user - s0.system) / elapsed * 100
    return cpu, rss_end / MIB, max(rss_max, rss_end) / MIB, uss_end / MIB, sim_cpu, tcp_max


async def run_fleet(args: argparse.Namespace, count: int) -> FleetResult:
    """Measure the bridge with ``count`` simulated Envoys."""
    fixture = FIXTURES_DIR / args.fixture
    intervals = (args.fast, args.normal, args.slow)
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
            write_config(config, mqtt_port, fleet, intervals)
            log = work / "bridge.log"
            with (
                log.open("wb") as log_file,
                _process(
                    [sys.executable, "-m", "benchmarks._bridge_proc", str(config)],
                    stderr=log_file,
                    stdout=subprocess.DEVNULL,
                ) as bridge,
                # The watcher is an MQTT client in *this* process, not in the bridge's.
            ):
                async with watching(mqtt_port) as watch:
                    serials = {s["serial"] for s in fleet}
                    try:
                        await watch.wait_until(
                            lambda: serials <= watch.online, within=args.ready_timeout + count
                        )
                    except TimeoutError:
                        print(
                            f"# warning: only {len(watch.online & serials)}/{count} Envoys "
                            "online before the timeout; measuring anyway",
                            file=sys.stderr,
                        )
                    await asyncio.sleep(args.warmup)
                    since = time.time()
                    cpu, rss_end, rss_max, uss_end, sim_cpu, tcp_max = await _measure(
                        bridge.pid, sims.pid, args.window
                    )
                    msgs = watch.count_since(since)
                    online = len(watch.online & serials)
            text = log.read_text(errors="replace")
            warnings = sum(
                1 for line in text.splitlines() if " WARNING " in line or " ERROR " in line
            )
            if args.keep_log:
                kept = Path(args.keep_log) / f"bridge-{count}.log"
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_text(text)
    return FleetResult(
        count,
        online,
        cpu,
        rss_end,
        rss_max,
        uss_end,
        tcp_max,
        msgs / args.window,
        sim_cpu,
        warnings,
        args.window,
    )


def render(results: list[FleetResult]) -> str:
    """The per-fleet-size table."""
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
    ]
    return format_table(headers, rows)


async def main_async(args: argparse.Namespace) -> int:
    """Run each fleet size in turn and print the table."""
    print(
        f"# fleet benchmark: fixture={args.fixture} intervals={args.fast}/{args.normal}/"
        f"{args.slow} s warm-up={args.warmup} s window={args.window} s "
        f"mosquitto set_tcp_nodelay={args.broker_nodelay}"
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
        "--broker-nodelay", action="store_true", help="mosquitto set_tcp_nodelay true"
    )
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.envoys or []) or args.window <= 0 or args.warmup < 0:
        parser.error("--envoys must be >= 1, --window > 0, --warmup >= 0")
    if not (FIXTURES_DIR / args.fixture / "info").is_file():
        parser.error(f"unknown fixture: {args.fixture}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
