"""Memory and import cost of a real ``envoy2mqtt run`` with one simulated Envoy.

Three processes besides this one, all on 127.0.0.1:

* mosquitto on a random port;
* ``benchmarks._simfleet`` with one simulated Envoy (live values, HTTPS + token for firmware
  >= 7) — its own process, so nothing of the simulator is counted in the bridge;
* ``python -X importtime -m envoy2mqtt run --config FILE``: the command users run, with the
  whole command-line start-up (sub-command discovery included).

Once the Envoy is ``online`` the script waits ``--duration`` seconds (default 300: the issue's
"after five minutes"), then prints the bridge's RSS and USS (psutil), how much of the RSS is
anonymous memory (the heap: objects, code, C libraries' allocations) and how much is mapped
from files (shared libraries, mostly shared with other processes), from Linux's
``/proc/PID/smaps_rollup``, its thread count, the number of modules it imported, the largest
cumulative import times (from ``-X importtime`` on its stderr) and which optional heavy
packages it loaded. Target: one Envoy <= 45 MiB RSS (40 MiB the goal beyond).

Run: ``python -m benchmarks.footprint [--duration 300] [--top 15] [--health-port]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from benchmarks._broker import free_port, mosquitto
from benchmarks._common import FIXTURES_DIR, format_table, machine_facts
from benchmarks._mqttwatch import watching
from benchmarks.fleet import DEFAULT_FIXTURE, MIB, _process, _read_fleet, write_config

# Packages the run path should only load when the configuration asks for them.
OPTIONAL = ("aiohttp.web", "yaml", "amqtt", "cryptography", "jwt", "envoy2mqtt.simulator")


def smaps_rollup(pid: int) -> dict[str, int] | None:
    """``/proc/PID/smaps_rollup`` as ``{field: kB}``; None where the kernel has none."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    fields = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


@dataclass(frozen=True)
class ImportTime:
    """One ``-X importtime`` line: cumulative microseconds of a top-level import."""

    module: str
    self_us: int
    cumulative_us: int


def parse_importtime(text: str) -> list[ImportTime]:
    """The ``import time:`` lines of ``text`` (other lines, e.g. logs, are skipped)."""
    found = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3:
            continue
        try:
            self_us, cumulative = int(fields[0]), int(fields[1])
        except ValueError:
            continue
        # One space after the bar marks a top-level import; each nesting level adds two.
        found.append(ImportTime(fields[2][1:].rstrip(), self_us, cumulative))
    return found


def top_level(entries: list[ImportTime]) -> list[ImportTime]:
    """Entries imported directly (not nested under another import), slowest first."""
    outer = [e for e in entries if not e.module.startswith(" ")]
    return sorted(outer, key=lambda e: e.cumulative_us, reverse=True)


@dataclass
class Footprint:
    """What was measured."""

    rss_mib: float
    uss_mib: float
    anon_mib: float | None  # anonymous part of the RSS (None: no smaps_rollup)
    file_mib: float | None  # file-backed part of the RSS
    threads: int
    modules: int
    import_ms: float
    optional: dict[str, bool]
    top: list[ImportTime]
    online: bool
    duration: float


async def measure(args: argparse.Namespace) -> Footprint:
    """Start broker, simulator and ``envoy2mqtt run``; measure after ``--duration`` s online."""
    fixture = FIXTURES_DIR / args.fixture
    with (
        tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp,
        mosquitto() as mqtt_port,
    ):
        work = Path(tmp)
        sim_cmd = [sys.executable, "-m", "benchmarks._simfleet", "--fixture", str(fixture)]
        sim_cmd += ["--count", "1", "--workdir", str(work / "sims"), "--live"]
        with _process(sim_cmd, stdout=subprocess.PIPE) as sims:
            fleet = _read_fleet(sims, timeout=60)
            config = work / "config.yaml"
            write_config(config, mqtt_port, fleet, (args.fast, args.normal, args.slow))
            if args.health_port:
                data = yaml.safe_load(config.read_text())
                data["health"] = {"port": free_port()}
                config.write_text(yaml.safe_dump(data))
            log = work / "bridge.log"
            cmd = [sys.executable, "-X", "importtime", "-m", "envoy2mqtt", "run"]
            cmd += ["--config", str(config)]
            with (
                log.open("wb") as err,
                _process(cmd, stderr=err, stdout=subprocess.DEVNULL) as bridge,
            ):
                async with watching(mqtt_port) as watch:
                    serial = fleet[0]["serial"]
                    online = True
                    try:
                        await watch.wait_until(lambda: serial in watch.online, args.ready_timeout)
                    except TimeoutError:
                        online = False
                    await asyncio.sleep(args.duration)
                    if bridge.poll() is not None:
                        raise RuntimeError(f"envoy2mqtt run exited: {log.read_text()[-2000:]}")
                    proc = psutil.Process(bridge.pid)
                    rss = proc.memory_info().rss / MIB
                    uss = proc.memory_full_info().uss / MIB
                    threads = proc.num_threads()
                    rollup = smaps_rollup(bridge.pid)
            entries = parse_importtime(log.read_text(errors="replace"))
    names = {e.module.strip() for e in entries}
    outer = top_level(entries)
    return Footprint(
        rss_mib=rss,
        uss_mib=uss,
        anon_mib=None if rollup is None else rollup["Anonymous"] / 1024,
        file_mib=None if rollup is None else (rollup["Rss"] - rollup["Anonymous"]) / 1024,
        threads=threads,
        modules=len(names),
        import_ms=sum(e.cumulative_us for e in outer) / 1000,
        optional={name: name in names for name in OPTIONAL},
        top=outer[: args.top],
        online=online,
        duration=args.duration,
    )


def render(result: Footprint) -> str:
    """The summary table and the slowest top-level imports."""
    loaded = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in result.optional.items())
    anon = "n/a" if result.anon_mib is None else f"{result.anon_mib:.1f}"
    file_backed = "n/a" if result.file_mib is None else f"{result.file_mib:.1f}"
    header = ["online", "after s", "RSS MiB", "USS MiB", "modules imported", "imports ms (sum)"]
    summary = format_table(
        [*header, "anonymous MiB", "file-backed MiB", "threads"],
        [
            [
                "yes" if result.online else "NO",
                f"{result.duration:g}",
                f"{result.rss_mib:.1f}",
                f"{result.uss_mib:.1f}",
                str(result.modules),
                f"{result.import_ms:.0f}",
                anon,
                file_backed,
                str(result.threads),
            ]
        ],
    )
    top = format_table(
        ["top-level import", "cumulative ms", "self ms"],
        [
            [e.module, f"{e.cumulative_us / 1000:.1f}", f"{e.self_us / 1000:.1f}"]
            for e in result.top
        ],
    )
    return f"{summary}\n\n# optional packages loaded: {loaded}\n\n{top}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="RSS/USS and imports of `envoy2mqtt run`")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds after online")
    parser.add_argument("--fixture", default=DEFAULT_FIXTURE, help="fixture the Envoy serves")
    parser.add_argument("--fast", type=float, default=10.0, help="fast tier interval (s)")
    parser.add_argument("--normal", type=float, default=60.0, help="normal tier interval (s)")
    parser.add_argument("--slow", type=float, default=600.0, help="slow tier interval (s)")
    parser.add_argument("--top", type=int, default=15, help="slowest imports to list")
    parser.add_argument("--ready-timeout", type=float, default=90.0, help="seconds to online")
    parser.add_argument(
        "--health-port", action="store_true", help="also enable the HTTP health server"
    )
    args = parser.parse_args(argv)
    if args.duration < 0 or args.top < 1:
        parser.error("--duration must be >= 0 and --top >= 1")
    if not (FIXTURES_DIR / args.fixture / "info").is_file():
        parser.error(f"unknown fixture: {args.fixture}")
    return args


async def main_async(args: argparse.Namespace) -> int:
    """Measure once and print."""
    print(f"# footprint benchmark: fixture={args.fixture} duration={args.duration:g} s")
    print(f"# {machine_facts()} load-average={os.getloadavg()[0]:.2f}")
    result = await measure(args)
    print(render(result))
    return 0 if result.online else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
