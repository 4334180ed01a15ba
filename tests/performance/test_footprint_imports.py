"""``envoy2mqtt run`` imports only what its configuration uses (docs/performance.md § 6).

A real ``python -X importtime -m envoy2mqtt run`` (its own process, configured from the
environment alone, no YAML file) serves a simulated Envoy through a real mosquitto until the
Envoy is online; every module the process imported is then read from its import log. The
health server's aiohttp.web appears only when a health port is configured.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto, free_port
from tests.plugins.simulator import StartSimulator

REPO = Path(__file__).resolve().parents[2]
# Needed only by other commands (simulate, demo, dump) or optional configuration.
NOT_FOR_RUN = (
    "yaml",
    "amqtt",
    "cryptography",
    "jwt",
    "envoy2mqtt.simulator",
    "envoy2mqtt.broker",
    "envoy2mqtt.cmd.demo_namespace",
    "envoy2mqtt.cmd.dump_mask",
    "envoy2mqtt.cmd.sim_config",
    # html.parser (with html.entities): only for a 3.x Envoy's HTML production page.
    "html",
    "envoy2mqtt.envoy.updaters.html_cells",
)


def _imported(log: str) -> set[str]:
    # Every module an ``import`` statement loaded (importlib.import_module is not listed).
    return {
        line.rsplit("|", 1)[1].strip()
        for line in log.splitlines()
        if line.startswith("import time:") and "[us]" not in line
    }


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


async def _modules_of_a_run(
    sim: EnvoySimulator, broker: Mosquitto, tmp_path: Path, extra: dict[str, str]
) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ENVOY2MQTT_MQTT__HOST": broker.host,
        "ENVOY2MQTT_MQTT__PORT": str(broker.port),
        "ENVOY2MQTT_ENVOYS": json.dumps([{"host": sim.url, "token": sim.issue_token()}]),
        "ENVOY2MQTT_TOKEN_CACHE_DIR": str(tmp_path / "tokens"),
        **extra,
    }
    log = tmp_path / "run.log"
    watcher = Watcher(broker.host, broker.port)
    await watcher.start()
    with log.open("wb") as err:
        # cwd without a config.yaml: the configuration comes from the environment only.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-X", "importtime", "-m", "envoy2mqtt", "run",
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        try:
            topic = f"envoy2mqtt/{sim.serial}/availability"
            await watcher.wait(lambda w: w.latest.get(topic) == b"online", limit=90)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)
            await watcher.stop()
    return _imported(log.read_text(errors="replace"))


async def test_run_from_the_environment_loads_no_optional_package(
    envoy_simulator: StartSimulator, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim = await envoy_simulator()
    modules = await _modules_of_a_run(sim, mosquitto, tmp_path, {})
    assert {"envoy2mqtt.bridge", "aiohttp", "aiomqtt", "pydantic"} <= modules  # it ran
    assert "aiohttp.web" not in modules  # no health port configured
    loaded = sorted(m for m in modules if any(_within(m, name) for name in NOT_FOR_RUN))
    assert loaded == []


async def test_the_health_server_brings_aiohttp_web(
    envoy_simulator: StartSimulator, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim = await envoy_simulator()
    extra = {"ENVOY2MQTT_HEALTH__PORT": str(free_port())}
    modules = await _modules_of_a_run(sim, mosquitto, tmp_path, extra)
    assert "aiohttp.web" in modules
    assert "yaml" not in modules
