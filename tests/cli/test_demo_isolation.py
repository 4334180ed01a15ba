"""``envoy2mqtt demo`` on the broker of a running installation leaves it exactly as it was.

A real bridge serves a simulated Envoy of fixture 7.3.517 on a real mosquitto; the demo
(a real process, with discovery) serves the same system - the same serial - on the same
broker, and ends by SIGTERM, Ctrl-C (SIGINT), ``--duration`` or because its output pipe
closed (``| head``).
While it runs nothing of the real bridge's ``bridge/*`` or discovery changes; after it ended
the broker's retained set is the one from before, topic for topic and payload for payload.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from envoy2mqtt.catalog.discovery import discovery_payloads
from envoy2mqtt.catalog.state import state_payloads
from tests.bridge_helpers import Watcher, bridge_settings, running_bridge
from tests.catalog_helpers import snapshot
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator
from tests.process_helpers import never_left_running

FIXTURE = "7.3.517"  # the demo's bundled system: same serial on both sides
DEMO = "envoy2mqtt-demo"


def real_topics(serial: str) -> set[str]:
    """Everything the real bridge publishes retained once every tier has polled."""
    snap = snapshot(FIXTURE)
    states = {f"envoy2mqtt/{serial}/{suffix}" for suffix in state_payloads(snap)}
    return states | set(discovery_payloads(snap)) | {f"envoy2mqtt/{serial}/availability"}


def settled_discovery() -> dict[str, set[str]]:
    """The components of each real discovery config once every group has answered."""
    return {t: set(c["cmps"]) for t, c in discovery_payloads(snapshot(FIXTURE)).items()}


def settled(payload: bytes | None, components: set[str]) -> bool:
    """Whether a device config has all its components and no removal stub left."""
    cmps = json.loads(payload)["cmps"] if payload else {}
    return set(cmps) >= components and all("unique_id" in c for c in cmps.values())


def demo_command(port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "envoy2mqtt", "demo", "--discovery", "--fast", "1",
        "--mqtt-host", "127.0.0.1", "--mqtt-port", str(port), *extra,
    ]  # fmt: skip


async def start_demo(port: int, how: str, errors: Path) -> asyncio.subprocess.Process:
    if how == "broken_pipe":
        # a reader that goes away, like `| head`, once the storage state was shown (the
        # demo learns it on its next write)
        script = '"$@" 2>"$ERR" | sed "/\\/storage  /q" >/dev/null; exit "${PIPESTATUS[0]}"'
        return await asyncio.create_subprocess_exec(
            "bash", "-c", script, "bash", *demo_command(port),
            env={**os.environ, "ERR": str(errors)},
        )  # fmt: skip
    extra = ("--duration", "15") if how == "duration" else ()
    with errors.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            *demo_command(port, *extra), stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )


@pytest.fixture
async def real_bridge(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, tmp_path: Path
) -> AsyncIterator[tuple[Watcher, str]]:
    sim = await envoy_simulator(FIXTURE)
    watcher = Watcher(mosquitto.host, mosquitto.port)
    await watcher.start()
    expected = real_topics(sim.serial)
    configs = settled_discovery()
    try:
        async with running_bridge(bridge_settings(mosquitto.port, [sim], tmp_path)):
            # every topic there, and discovery in its final form (not just present), so a
            # late change of the real bridge's own is not mistaken for the demo's doing
            await watcher.wait(
                lambda w: (
                    set(w.latest) >= expected
                    and all(settled(w.latest.get(t), c) for t, c in configs.items())
                ),
                60,
            )
            yield watcher, sim.serial
    finally:
        await watcher.stop()


def unique_ids(messages: dict[str, bytes], prefix: str) -> tuple[set[str], set[str]]:
    """Unique ids and device identifiers of the device configs below ``prefix``."""
    uids: set[str] = set()
    devices: set[str] = set()
    for topic, payload in messages.items():
        if topic.startswith(prefix) and payload:
            config = json.loads(payload)
            devices |= set(config["dev"]["identifiers"])
            # a component sent with its platform alone is a removal (it moved to another device)
            uids |= {c["unique_id"] for c in config["cmps"].values() if "unique_id" in c}
    return uids, devices


@pytest.mark.parametrize("how", ["sigterm", "sigint", "duration", "broken_pipe"])
async def test_demo_next_to_a_real_bridge_leaves_the_broker_as_it_was(
    real_bridge: tuple[Watcher, str], mosquitto: Mosquitto, tmp_path: Path, how: str
) -> None:
    watcher, serial = real_bridge
    before = await watcher.retained_now("#")
    index = len(watcher.log)
    demo_state = f"{DEMO}/{serial}/storage"
    demo_device = f"homeassistant/device/{DEMO}_{serial}/config"
    errors = tmp_path / "demo.err"
    proc = await start_demo(mosquitto.port, how, errors)

    def seen(w: Watcher) -> dict[str, bytes]:
        return {t: p for t, p, _ in w.since(index) if p}

    async with never_left_running(proc):
        # seen at all: after `| head` the demo may already be cleaning up
        await watcher.wait(lambda w: {demo_state, demo_device} <= set(seen(w)), 60)
        if how in {"sigterm", "sigint"}:  # SIGINT: what Ctrl-C sends
            proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 60)
    after = await watcher.retained_now("#")

    stderr = errors.read_text()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    # the demo really was there, with its own ids for the very same serial ...
    real_ids = unique_ids(before, "homeassistant/device/envoy2mqtt_")
    demo_ids = unique_ids(seen(watcher), f"homeassistant/device/{DEMO}_")
    assert demo_ids[0]
    assert demo_ids[1]
    assert not real_ids[0] & demo_ids[0]
    assert not real_ids[1] & demo_ids[1]
    assert json.loads(seen(watcher)[demo_state])
    # ... never wrote to the real namespace ...
    guarded = {t for t in before if t.startswith(("envoy2mqtt/bridge/", "homeassistant/"))}
    touched = [t for t, p, _ in watcher.since(index) if t in guarded and before[t] != p]
    assert touched == []
    # ... and left nothing behind
    assert sorted(after) == sorted(before)
    assert {t: after[t] for t in guarded} == {t: before[t] for t in guarded}
