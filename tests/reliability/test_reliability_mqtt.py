"""Broker-side faults against the running bridge: kill -9 of the broker, TLS mismatch at
start, Home Assistant restarts, kill -9 of the bridge, commands across reconnects."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.cli.test_bridge_cli import run_cli, write_config
from tests.mqtt.test_mqtt_session import tls_broker  # noqa: F401 - the fixture
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import command_writes

T = Topics("envoy2mqtt")
FIXTURE = "8.3.5169_with_generator"


SERIAL = "202439990001"  # fixture 8.3.5169_with_generator
DEVICES = {
    f"homeassistant/device/envoy2mqtt_{SERIAL}_{d}/config"
    for d in ("relay_nc1", "relay_nc2", "relay_no1", "relay_no2", "enpower_202411990001")
}
STATES = {f"envoy2mqtt/{SERIAL}/{s}" for s in ("generator", "battery", "enpower", "storage")}


def settled(w: Watcher) -> bool:
    """Every tier has published (devices of every group are announced)."""
    inverters = any(f"envoy2mqtt_{SERIAL}_inverter_" in t for t in w.latest)
    return inverters and set(w.latest) >= (DEVICES | STATES)


def ours(retained: dict[str, bytes], serial: str) -> dict[str, bytes]:
    """The bridge's retained topics (bridge, Envoy states and its discovery configs)."""
    return {
        t: p
        for t, p in retained.items()
        if t.startswith(("envoy2mqtt/", "homeassistant/")) and not t.endswith("/bridge/health")
        and "/bridge/scan/" not in t  # the orphan scan's own (non-retained) marker
        and (serial in t or t.startswith("envoy2mqtt/bridge/"))
    }  # fmt: skip


async def test_broker_killed_and_restarted_gets_everything_back_within_10_s(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    production = T.state(sim.serial, "production")
    config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    async with bridge_stack.bridge(sim) as bridge:
        await watcher.wait(lambda w: production in w.latest and config in w.latest)
        await watcher.wait(settled)
        before = ours(await watcher.retained_now("#"), sim.serial)
        assert mosquitto.proc is not None
        mosquitto.proc.kill()  # SIGKILL: no clean disconnect, nothing persisted
        await asyncio.to_thread(mosquitto.proc.wait, 5)
        index = len(watcher.log)
        await asyncio.to_thread(mosquitto.start)
        # within 10 s of the broker's return every retained topic is back
        await watcher.wait(lambda w: set(before) <= {t for t, _, _ in w.since(index)}, 10)
        after = ours(await watcher.retained_now("#"), sim.serial)
        assert bridge.session.stats.connects >= 2
    assert set(after) == set(before)
    assert after[T.bridge_state] == b"online"
    assert after[T.availability(sim.serial)] == b"online"
    assert json.loads(after[config]) == json.loads(before[config])


async def _run_over_tls(tmp_path: Path, port: int, tls: dict[str, str]) -> tuple[int, str]:
    """``envoy2mqtt run`` with TLS to the broker at 127.0.0.1:``port``: exit code, stderr."""
    mqtt = {"host": "127.0.0.1", "port": port, "tls": {"enabled": True, **tls}}
    config = write_config(
        tmp_path / "config.yaml", {"mqtt": mqtt, "envoys": [{"host": "127.0.0.1:9"}]}
    )
    return await run_cli("run", "--config", str(config))


async def test_tls_mismatch_at_start_exits_1_with_a_clear_error_and_no_retry_loop(
    tls_broker: tuple[Mosquitto, int, Path],  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    _broker, port, certs = tls_broker
    tls = {
        "ca_file": str(certs / "other-ca.pem"),  # does not sign the broker's cert
        "cert_file": str(certs / "client.pem"),
        "key_file": str(certs / "client.key"),
    }
    code, err = await _run_over_tls(tmp_path, port, tls)  # returns: no busy retry loop
    assert code == 1
    assert "mqtt.tls" in err
    assert f"TLS certificate of MQTT broker 127.0.0.1:{port} not trusted" in err
    assert "_ssl.c" not in err
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 5


async def test_tls_client_against_a_plain_listener_exits_1(
    tls_broker: tuple[Mosquitto, int, Path],  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    broker, _port, certs = tls_broker
    plain = broker.port  # the broker's plain listener
    code, err = await _run_over_tls(tmp_path, plain, {"ca_file": str(certs / "ca.pem")})
    assert code == 1, err
    assert "mqtt.tls" in err
    assert f"TLS handshake with MQTT broker 127.0.0.1:{plain} failed" in err
    assert "_ssl.c" not in err
    assert "Errno" not in err
    assert "Traceback" not in err


async def test_home_assistant_restart_republishes_every_discovery_and_state_topic(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    production = T.state(sim.serial, "production")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: production in w.latest)
        await watcher.wait(lambda w: T.state(sim.serial, "storage") in w.latest)
        retained = ours(await watcher.retained_now("#"), sim.serial)
        wanted = {t for t in retained if t.startswith("homeassistant/")}
        wanted |= {t for t in retained if t.startswith(f"envoy2mqtt/{sim.serial}/")}
        index = len(watcher.log)
        await watcher.publish("homeassistant/status", "online")
        await watcher.wait(lambda w: wanted <= {t for t, _, _ in w.since(index)})
    assert len(wanted) > 10
    assert any(t.startswith("homeassistant/") for t in wanted)


def _config(path: Path, port: int, sim_url: str, token: str, tmp_path: Path) -> Path:
    data: dict[str, Any] = {
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": "killed-bridge"},
        "envoys": [{"host": sim_url, "token": token, "intervals": {"fast": 1, "normal": 1}}],
        "token_cache_dir": str(tmp_path / "tokens"),
    }
    path.write_text(yaml.safe_dump(data))
    path.chmod(0o600)
    return path


async def _start_run(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def test_bridge_sigkill_delivers_lwt_and_a_restart_leaves_no_orphans_or_duplicates(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    config = _config(tmp_path / "c.yaml", mosquitto.port, sim.url, sim.issue_token(), tmp_path)
    availability = T.availability(sim.serial)
    storage = T.state(sim.serial, "storage")
    proc = await _start_run(config)
    second: asyncio.subprocess.Process | None = None
    try:
        await watcher.wait(lambda w: settled(w) and w.latest.get(availability) == b"online", 30)
        before = ours(await watcher.retained_now("#"), sim.serial)
        index = len(watcher.log)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await watcher.wait(
            lambda w: (T.bridge_state, b"offline") in [(t, p) for t, p, _ in w.since(index)]
        )
        assert (await watcher.retained_now(T.bridge_state))[T.bridge_state] == b"offline"
        index = len(watcher.log)
        second = await _start_run(config)
        await watcher.wait(lambda w: w.latest.get(T.bridge_state) == b"online", 30)
        await watcher.wait(
            lambda w: (
                storage in {t for t, _, _ in w.since(index)}
                and w.latest.get(availability) == b"online"
            ),
            30,
        )
        # once every tier has published again (orphans checked), the set is as before
        await watcher.wait(lambda w: set(before) <= {t for t, p, _ in w.since(index) if p}, 15)
        after = ours(await watcher.retained_now("#"), sim.serial)
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)
        cleared = [t for t, p, _ in watcher.since(index) if not p and t in before]
    finally:
        for p in (proc, second):
            if p is not None and p.returncode is None:
                p.kill()
                await p.wait()
        await watcher.stop()
    assert set(after) == set(before)
    assert cleared == []  # nothing of the previous run was wrongly cleared as an orphan
    # no duplicates: one discovery config per unique_id
    unique_ids: list[str] = []
    for topic, payload in after.items():
        if topic.startswith("homeassistant/"):
            config_doc = json.loads(payload)
            components = config_doc.get("cmps", {"": config_doc})
            unique_ids += [c["unique_id"] for c in components.values() if "unique_id" in c]
    assert len(unique_ids) == len(set(unique_ids))


async def _storage_commands_on(stack: BridgeStack) -> tuple[EnvoySimulator, Settings]:
    """A simulated Envoy with IQ Batteries, and bridge settings that accept its commands."""
    sim = await stack.sim("7.3.517")
    return sim, stack.settings(sim, controls={"storage": True})


async def test_commands_queued_while_the_bridge_was_away_are_not_replayed(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim, settings = await _storage_commands_on(bridge_stack)
    base = f"envoy2mqtt/{sim.serial}"
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(f"{base}/availability") == b"online")
    # gone (its subscription was QoS 1): a persistent session would queue this for it
    await watcher.publish(f"{base}/reserve_soc/set", "30")
    index = len(watcher.log)
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(f"{base}/availability") == b"online")
        # a later command is answered: the bridge is subscribed and processing
        await watcher.publish(f"{base}/storage_mode/set", "turbo")
        result = f"{base}/storage_mode/result"
        await watcher.wait(lambda w: any(t == result for t, _, _ in w.since(index)))
        replayed = [t for t, _, _ in watcher.since(index) if t == f"{base}/reserve_soc/result"]
    assert replayed == []
    assert command_writes(sim) == []


async def test_duplicate_commands_each_get_one_result_and_one_write(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim, settings = await _storage_commands_on(bridge_stack)
    base = f"envoy2mqtt/{sim.serial}"
    result = f"{base}/reserve_soc/result"
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: f"{base}/storage" in w.latest)
        index = len(watcher.log)
        await watcher.publish(f"{base}/reserve_soc/set", "25")
        await watcher.publish(f"{base}/reserve_soc/set", "25")
        await watcher.wait(lambda w: [t for t, _, _ in w.since(index)].count(result) >= 2)
        results = [json.loads(p) for t, p, _ in watcher.since(index) if t == result]
    assert [r["status"] for r in results] == ["ok", "ok"]
    assert len(command_writes(sim)) == 2
