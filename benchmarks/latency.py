"""Bridge latencies, measured externally end to end (the bridge has no timing hooks).

Processes: mosquitto (127.0.0.1, random port), the real ``Bridge`` in its own process
(``benchmarks._bridge_proc``), and this process holding one simulated Envoy (live values)
plus MQTT clients. All clocks are the same machine's ``time.time()``.

1. **poll returned -> state published**: for each fast-tier poll, t0 = the moment the
   simulator has the poll's last answer ready (``/ivp/meters/readings`` and, where the
   bridge reads it, ``/ivp/livedata/status``; its request log is told when a request
   finishes), t1 = the first state message under ``<base>/<sn>/`` that a subscriber
   receives after t0 (and before the next poll). Includes the HTTP response transfer, the
   bridge's decode + catalogue + publish, and the broker hop to the subscriber: an upper
   bound of the bridge's own share. Other tiers are set to 1 h so only fast polls run.
2. **``/set`` received -> HTTP request sent**: t0 = just before this process publishes
   ``<base>/<sn>/reserve_soc/set`` (values alternate, so every command is a real write),
   t1 = the simulator's log receiving ``PUT /admin/lib/tariff``. Includes the broker hop to
   the bridge and the request reaching the simulator (again an upper bound). The next
   command is sent only after the previous one's ``/result`` arrived.

Targets: set->request p99 <= 20 ms; poll->publish <= 10 ms.
Run: ``python -m benchmarks.latency [--polls 100] [--commands 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import yaml

from benchmarks._broker import mosquitto
from benchmarks._common import FIXTURES_DIR, REPO_ROOT, format_table, machine_facts, percentile
from benchmarks._mqttwatch import Seen, Watch, watching
from envoy2mqtt.simulator.requestlog import LoggedRequest
from envoy2mqtt.simulator.server import EnvoySimulator

DEFAULT_FIXTURE = "7.6.185_with_cts_and_battery_3t"
READINGS = "/ivp/meters/readings"
# The fast tier's endpoints: its poll has returned when the last of them was answered.
FAST_PATHS = frozenset({READINGS, "/ivp/livedata/status"})
TARIFF = "/admin/lib/tariff"


class Timestamps:
    """Arrival and answer-ready wall-clock times of every request the simulator logs.

    The simulator's ``RequestLog.notify`` runs once when a request is added and once when
    its answer is ready, so the second notification of an entry is its answer time.
    """

    def __init__(self, sim: EnvoySimulator) -> None:
        """Wrap the public ``add``/``notify`` methods of ``sim.requests`` on the instance."""
        self.arrived: list[tuple[float, LoggedRequest]] = []
        self.answered: list[tuple[float, LoggedRequest]] = []
        self._open: list[LoggedRequest] = []
        self._just_added = False
        self.event = asyncio.Event()
        log = sim.requests
        add: Callable[[LoggedRequest], LoggedRequest] = log.add
        notify: Callable[[], None] = log.notify

        def timed_add(entry: LoggedRequest) -> LoggedRequest:
            self.arrived.append((time.time(), entry))
            self._open.append(entry)
            self._just_added = True
            return add(entry)

        def timed_notify() -> None:
            now = time.time()
            if self._just_added:
                self._just_added = False  # the notification of the add itself
            else:
                # The oldest open entry whose answer is now ready (one request at a time per
                # tier; the window runs the fast tier only).
                for entry in list(self._open):
                    self._open.remove(entry)
                    self.answered.append((now, entry))
                    break
            notify()
            self.event.set()
            self.event = asyncio.Event()

        log.add = timed_add  # type: ignore[method-assign]
        log.notify = timed_notify  # type: ignore[method-assign]


def _config(path: Path, mqtt_port: int, sim: EnvoySimulator, fast: float, log_level: str) -> None:
    envoy: dict[str, Any] = {
        "host": sim.url,
        "serial": sim.serial,
        "intervals": {"fast": fast, "normal": 3600, "slow": 3600},
    }
    if sim.state.uses_tokens:
        envoy["token"] = sim.issue_token()
    config = {
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": "bench-bridge"},
        "envoys": [envoy],
        "controls": {"storage": True},
        "token_cache_dir": str(path.parent / "tokens"),
        "logging": {"level": log_level},
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


def _state_message(watch: Watch, serial: str, seen: Seen) -> bool:
    suffix = seen.topic.removeprefix(f"{watch.base}/{serial}/")
    if suffix == seen.topic or suffix == "availability":
        return False
    return not suffix.endswith(("/set", "/result")) and suffix not in ("set", "result")


def _poll_ends(times: list[float], gap: float) -> list[float]:
    """The last answer time of each burst of fast-tier answers (one burst = one poll)."""
    ends: list[float] = []
    for t in times:
        if ends and t - ends[-1] < gap:
            ends[-1] = t
        else:
            ends.append(t)
    return ends


async def poll_to_publish(
    watch: Watch, stamps: Timestamps, serial: str, polls: int, fast: float
) -> list[float]:
    """Latencies (ms) from a fast poll's last answer to the next state message."""
    start = len(stamps.answered)

    def enough() -> bool:
        done = [e for _, e in stamps.answered[start:] if e.path == READINGS]
        return len(done) >= polls + 1

    deadline = time.monotonic() + polls * fast * 3 + 30
    while not enough():
        if time.monotonic() > deadline:
            raise TimeoutError("the bridge did not poll often enough")
        await asyncio.wait_for(stamps.event.wait(), fast * 3 + 10)
    answers = _poll_ends(
        [t for t, e in stamps.answered[start:] if e.path in FAST_PATHS], gap=fast / 2
    )
    await asyncio.sleep(1.0)  # let the last poll's messages arrive
    states = [m.at for m in watch.messages if _state_message(watch, serial, m)]
    latencies = []
    for t0, t_next in zip(answers, [*answers[1:], float("inf")], strict=True):
        after = [t for t in states if t0 <= t < t_next]
        if after:
            latencies.append((after[0] - t0) * 1000)
    return latencies[:polls]


def _puts(stamps: Timestamps) -> list[float]:
    return [t for t, e in stamps.arrived if e.method == "PUT" and e.path == TARIFF]


async def set_to_request(
    mqtt_port: int, watch: Watch, stamps: Timestamps, serial: str, commands: int
) -> tuple[list[float], list[float], list[str]]:
    """Latencies (ms) from publishing a ``/set`` to the write reaching the simulator.

    Returns:
        (to the PUT, to the first request of any kind, the requests the first command caused).
    """
    base = f"{watch.base}/{serial}/reserve_soc"
    latencies: list[float] = []
    first_request: list[float] = []
    sequence: list[str] = []
    async with aiomqtt.Client("127.0.0.1", mqtt_port, identifier="bench-commander") as client:
        for i in range(commands):
            seen_writes, arrived_before = len(_puts(stamps)), len(stamps.arrived)
            results_before = sum(1 for m in watch.messages if m.topic == f"{base}/result")
            t0 = time.time()
            await client.publish(f"{base}/set", str(20 + (i % 2) * 10), qos=1)
            while len(_puts(stamps)) <= seen_writes:
                await asyncio.wait_for(stamps.event.wait(), 10)
            latencies.append((_puts(stamps)[-1] - t0) * 1000)
            first_request.append((stamps.arrived[arrived_before][0] - t0) * 1000)

            def answered(count: int = results_before) -> bool:
                return sum(1 for m in watch.messages if m.topic == f"{base}/result") > count

            await watch.wait_until(answered, within=10)
            if i == 0:
                sequence = [f"{e.method} {e.path}" for _, e in stamps.arrived[arrived_before:]]
    return latencies, first_request, sequence


def _row(name: str, values: list[float], target: str) -> list[str]:
    if not values:
        return [name, "0", "n/a", "n/a", "n/a", "n/a", target]
    return [
        name,
        str(len(values)),
        f"{percentile(values, 50):.2f}",
        f"{percentile(values, 90):.2f}",
        f"{percentile(values, 99):.2f}",
        f"{max(values):.2f}",
        target,
    ]


async def main_async(args: argparse.Namespace) -> int:
    """Start everything, measure both latencies, print the table."""
    print(
        f"# latency benchmark: fixture={args.fixture} fast={args.fast} s "
        f"mosquitto set_tcp_nodelay={args.broker_nodelay}"
    )
    print(f"# {machine_facts()} load-average={os.getloadavg()[0]:.2f}")
    fixture = FIXTURES_DIR / args.fixture
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with (
        tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
        mosquitto(tcp_nodelay=args.broker_nodelay) as mqtt_port,
    ):
        async with EnvoySimulator(fixture, live_seed=1) as sim:
            stamps = Timestamps(sim)
            config = Path(tmp) / "config.yaml"
            _config(config, mqtt_port, sim, args.fast, args.log_level)
            async with watching(mqtt_port) as watch:
                bridge = subprocess.Popen(  # noqa: ASYNC220 - once, before measuring
                    [sys.executable, "-m", "benchmarks._bridge_proc", str(config)],
                    env=env,
                    cwd=REPO_ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=(Path(tmp) / "bridge.log").open("wb"),
                )
                try:
                    await watch.wait_until(lambda: sim.serial in watch.online, within=60)
                    poll = await poll_to_publish(watch, stamps, sim.serial, args.polls, args.fast)
                    cmds, first, sequence = await set_to_request(
                        mqtt_port, watch, stamps, sim.serial, args.commands
                    )
                finally:
                    bridge.terminate()
                    bridge.wait(timeout=20)
                    if args.keep_log:
                        shutil.copyfile(Path(tmp) / "bridge.log", args.keep_log)
    headers = ["latency (ms)", "samples", "p50", "p90", "p99", "max", "target"]
    print(
        format_table(
            headers,
            [
                _row("poll returned -> state received", poll, "<= 10 ms"),
                _row("/set published -> HTTP write at Envoy", cmds, "p99 <= 20 ms"),
                _row("/set published -> first HTTP request", first, "(diagnostic)"),
            ],
        )
    )
    print(f"\nrequests caused by the first /set (in order): {', '.join(sequence)}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="bridge latencies, end to end")
    parser.add_argument("--fixture", default=DEFAULT_FIXTURE, help="fixture with storage control")
    parser.add_argument("--fast", type=float, default=1.0, help="fast tier interval (s)")
    parser.add_argument("--polls", type=int, default=100, help="fast polls measured")
    parser.add_argument("--commands", type=int, default=100, help="/set commands measured")
    parser.add_argument("--log-level", default="info", help="bridge log level (debug: diagnosis)")
    parser.add_argument("--keep-log", help="copy the bridge log to this file")
    parser.add_argument(
        "--broker-nodelay", action="store_true", help="mosquitto set_tcp_nodelay true"
    )
    args = parser.parse_args(argv)
    if args.polls < 1 or args.commands < 1 or args.fast < 1:
        parser.error("--polls and --commands must be >= 1, --fast >= 1")
    if not (FIXTURES_DIR / args.fixture / "info").is_file():
        parser.error(f"unknown fixture: {args.fixture}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
