"""Three ``envoy2mqtt run`` processes, one config file, ten simulated Envoys, one broker.

The instances differ only by ``ENVOY2MQTT_INSTANCE`` / ``ENVOY2MQTT_SHARD``: each serves its
shard, commands are executed exactly once (simulator request logs), and SIGKILL of one
instance takes only its own Envoys offline (its Last Will is in their availability).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml

from benchmarks._simfleet import clone_fixture
from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.sharding import shard_key, shard_of
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.fleet_helpers import LogLines
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import FIXTURES_DIR, StartSimulator
from tests.reliability_helpers import command_writes

FIXTURE = "7.3.517"
ENVOYS = 10
INSTANCES = ("i1", "i2", "i3")
T = Topics("envoy2mqtt")
WAIT = 60


async def cloned_sims(start: StartSimulator, tmp_path: Path, count: int) -> list[EnvoySimulator]:
    """``count`` simulators of one fixture, each with its own serial."""
    sims = []
    for index in range(count):
        directory = tmp_path / f"envoy-{index}"
        clone_fixture(FIXTURES_DIR / FIXTURE, directory, index)
        sims.append(await start(directory))
    return sims


def write_config(path: Path, port: int, sims: list[EnvoySimulator]) -> None:
    envoys = [
        {
            "host": sim.url,
            "serial": sim.serial,
            "token": sim.issue_token(),
            "intervals": {"fast": 2, "normal": 10, "slow": 60},
        }
        for sim in sims
    ]
    config = {
        "mqtt": {
            "host": "127.0.0.1",
            "port": port,
            "reconnect_min_delay": 0.1,
            "reconnect_max_delay": 0.5,
        },
        "envoys": envoys,
        "token_cache_dir": str(path.parent / "tokens"),
        "publish": {"health_interval": 0},
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


async def start_run(config: Path, stderr: Any, **env: str) -> asyncio.subprocess.Process:
    """``envoy2mqtt run --config CONFIG`` with ``ENVOY2MQTT_<KEY>`` variables from ``env``."""
    variables = {f"ENVOY2MQTT_{key.upper()}": value for key, value in env.items()}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=stderr, env={**os.environ, **variables},
    )  # fmt: skip


async def stop_all(procs: Iterable[asyncio.subprocess.Process]) -> None:
    """SIGTERM (clean exit) every process still running and wait for it."""
    procs = list(procs)
    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@asynccontextmanager
async def instances(config: Path, logs: Path) -> AsyncIterator[dict[str, Any]]:
    """Start one ``run`` process per instance name, all on the same config file."""
    procs: dict[str, asyncio.subprocess.Process] = {}
    try:
        for index, name in enumerate(INSTANCES, start=1):
            with (logs / f"{name}.log").open("wb") as log:
                shard = f"{index}/{len(INSTANCES)}"
                procs[name] = await start_run(config, log, instance=name, shard=shard)
        yield procs
    finally:
        await stop_all(procs.values())


def availability_topics(watcher: Watcher, serial: str) -> list[str]:
    config = watcher.json(f"homeassistant/device/envoy2mqtt_{serial}/config")
    first = next(iter(config.get("cmps", {}).values()), {})
    return [a["topic"] for a in first.get("availability", [])]


def ok_results(watcher: Watcher, serial: str) -> list[dict[str, Any]]:
    topic = T.result(serial, "reserve_soc")
    decoded = [json.loads(p) for t, p, _ in watcher.log if t == topic]
    return [r for r in decoded if r.get("status") == "ok"]


def tariff_puts(sim: EnvoySimulator) -> int:
    return sum(1 for w in command_writes(sim) if (w.method, w.path) == ("PUT", "/admin/lib/tariff"))


async def test_three_instances_share_ten_envoys_by_shard(
    watcher: Watcher, mosquitto: Mosquitto, envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sims = await cloned_sims(envoy_simulator, tmp_path, ENVOYS)
    expected = {
        s.serial: INSTANCES[shard_of(shard_key(s.serial, s.url), len(INSTANCES)) - 1] for s in sims
    }
    assert set(expected.values()) == set(INSTANCES)  # every instance has Envoys to serve
    config = tmp_path / "fleet.yaml"
    write_config(config, mosquitto.port, sims)
    async with instances(config, tmp_path) as procs:
        await watcher.wait(
            lambda w: all(
                w.latest.get(T.availability(sn)) == b"online"
                and w.latest.get(T.owner(sn)) == owner.encode()
                and availability_topics(w, sn) == [T.instance_state(owner), T.availability(sn)]
                for sn, owner in expected.items()
            ),
            WAIT,
        )
        for name in INSTANCES:
            assert watcher.latest[T.instance_state(name)] == b"online"
            info = watcher.json(f"envoy2mqtt/bridge/{name}/info")
            assert info["mqtt"]["client_id"] == f"envoy2mqtt-{name}"
            assert sorted(e["serial"] for e in info["envoys"]) == sorted(
                sn for sn, owner in expected.items() if owner == name
            )
        assert "envoy2mqtt/bridge/state" not in watcher.latest

        # Every command is executed by exactly one instance, once.
        for value, sim in enumerate(sims, start=20):
            await watcher.publish(T.command(sim.serial, "reserve_soc"), str(value))
        await watcher.wait(lambda w: all(ok_results(w, s.serial) for s in sims), WAIT)
        assert [tariff_puts(s) for s in sims] == [1] * ENVOYS

        # SIGKILL of i2: its Last Will marks only its Envoys unavailable.
        for sim in sims:
            sim.requests.clear()
        procs["i2"].send_signal(signal.SIGKILL)
        await procs["i2"].wait()
        await watcher.wait(lambda w: w.latest.get(T.instance_state("i2")) == b"offline", WAIT)
        survivors = [s for s in sims if expected[s.serial] != "i2"]
        for sim in survivors:  # still polled by their instance
            await sim.requests.wait_for(lambda e: e.path == "/ivp/livedata/status", WAIT)
        for name in ("i1", "i3"):
            assert watcher.latest[T.instance_state(name)] == b"online"
        for sim in survivors:
            assert watcher.latest[T.availability(sim.serial)] == b"online"
        for sim in (s for s in sims if expected[s.serial] == "i2"):
            # HA: availability_mode all over [bridge/i2/state (offline), <sn>/availability]
            assert availability_topics(watcher, sim.serial)[0] == T.instance_state("i2")
            assert watcher.latest[T.owner(sim.serial)] == b"i2"  # not live: nobody's
            assert len(sim.requests) == 0  # no other shard took it over
        # ... and the commands executed before were never executed again.
        assert [tariff_puts(s) for s in sims] == [0] * ENVOYS
    retained = await watcher.retained_now("envoy2mqtt/#")
    # Clean exit of i1 and i3 cleared their claims; i2's (killed) claims stay, not live.
    for sn, owner in expected.items():
        assert retained.get(T.owner(sn)) == (b"i2" if owner == "i2" else None)
    assert {n: retained[T.instance_state(n)] for n in INSTANCES} == dict.fromkeys(
        INSTANCES, b"offline"
    )
    for name in INSTANCES:
        text = (tmp_path / f"{name}.log").read_text()
        assert "ownership conflict" not in text
        assert "served by another instance" not in text


async def test_a_standby_instance_waits_without_polling_and_takes_over_from_a_killed_owner(
    watcher: Watcher, mosquitto: Mosquitto, envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sims = await cloned_sims(envoy_simulator, tmp_path, 2)
    config = tmp_path / "standby.yaml"
    write_config(config, mosquitto.port, sims)  # no shard: both instances serve both Envoys
    procs: list[asyncio.subprocess.Process] = []
    standby: LogLines | None = None
    try:
        with (tmp_path / "a.log").open("wb") as log:
            procs.append(await start_run(config, log, instance="a"))
        await watcher.wait(
            lambda w: all(w.latest.get(T.availability(s.serial)) == b"online" for s in sims), WAIT
        )
        procs.append(
            await start_run(config, asyncio.subprocess.PIPE, instance="b", logging__level="debug")
        )
        assert procs[1].stderr is not None
        standby = LogLines(procs[1].stderr)
        for sim in sims:
            line = await standby.wait("ERROR", "served by another instance", sim.serial, limit=WAIT)
            assert "owner=a instance=b" in line
        await standby.wait("mqtt connected", "client_id=envoy2mqtt-b")
        assert standby.matching("http method=") == []  # b never contacted an Envoy
        assert all(watcher.latest[T.owner(s.serial)] == b"a" for s in sims)

        index = len(watcher.log)
        procs[0].send_signal(signal.SIGKILL)
        own = [T.instance_state("b")]
        await watcher.wait(
            lambda w: all(
                w.latest.get(T.owner(s.serial)) == b"b"
                and availability_topics(w, s.serial) == [*own, T.availability(s.serial)]
                # a's retained "online" is replaced: offline until b's own first poll
                and [p for t, p, _ in w.since(index) if t == T.availability(s.serial)]
                == [b"offline", b"online"]
                for s in sims
            ),
            WAIT,
        )
        assert standby.matching("http method=GET path=/info")
        assert standby.matching("owner went offline", "owner=a", "taking over in 10.0s")
        for sim in sims:
            sim.requests.clear()
        for sim in sims:
            await watcher.publish(T.command(sim.serial, "reserve_soc"), "33")
        await watcher.wait(lambda w: all(ok_results(w, s.serial) for s in sims), WAIT)
        assert [tariff_puts(s) for s in sims] == [1, 1]
    finally:
        await stop_all(procs)
        if standby is not None:
            await standby.close()
        await watcher.stop()
