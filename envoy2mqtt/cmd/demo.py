"""``envoy2mqtt demo``: a simulated Envoy, an MQTT broker and the bridge, in one process.

Nothing to install or configure: the simulator serves a real captured system bundled in the
package (IQ Batteries, Enpower, dry contacts) with live-changing values, an embedded broker
listens on 127.0.0.1 (unless ``--mqtt-host`` points at a real one), and every message the
bridge publishes is printed as ``topic  summary``. Ctrl-C (or ``--duration``) ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt

from envoy2mqtt.bridge import Bridge
from envoy2mqtt.broker import EmbeddedBroker
from envoy2mqtt.cmd.demo_view import summarize
from envoy2mqtt.logs import setup_logging
from envoy2mqtt.mqtt.session import MqttFatalError
from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.server import EnvoySimulator

NAME = "demo"
HELP = "run a simulated Envoy, an embedded MQTT broker and the bridge; print the topics"

BUNDLED = Path(__file__).resolve().parent.parent / "demo_fixture"
DEFAULT_FIXTURE = "7.3.517"
_LIVE_SEED = 42


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the demo options."""
    parser.add_argument(
        "--fixture",
        default=DEFAULT_FIXTURE,
        help=f"bundled fixture name or a fixture directory (default {DEFAULT_FIXTURE})",
    )
    parser.add_argument("--mqtt-host", help="use this broker instead of the embedded one")
    parser.add_argument("--mqtt-port", type=int, default=None, help="broker port")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument(
        "--fast", type=float, default=2.0, help="fast poll interval in seconds (default 2)"
    )
    parser.add_argument(
        "--discovery", action="store_true", help="also print Home Assistant discovery configs"
    )


def resolve_fixture(name_or_dir: str) -> Path:
    """Find the fixture: a directory path, a bundled name, or ``fixtures/<name>`` here.

    Raises:
        FileNotFoundError: nothing matches (the message lists the bundled names).
    """
    for candidate in (Path(name_or_dir), BUNDLED / name_or_dir, Path("fixtures") / name_or_dir):
        if (candidate / "info").is_file():
            return candidate.resolve()
    bundled = sorted(p.name for p in BUNDLED.iterdir() if (p / "info").is_file())
    msg = f"fixture {name_or_dir!r} not found (bundled: {', '.join(bundled)})"
    raise FileNotFoundError(msg)


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 on Ctrl-C or after ``--duration``."""
    setup_logging(getattr(args, "log_level", None) or "warning")
    try:
        fixture = resolve_fixture(args.fixture)
    except FileNotFoundError as exc:
        print(f"envoy2mqtt demo: {exc}", file=sys.stderr)
        return 2
    if args.fast < 1:
        print("envoy2mqtt demo: --fast must be >= 1", file=sys.stderr)
        return 2
    try:
        asyncio.run(_demo(args, fixture))
    except MqttFatalError as exc:
        print(f"envoy2mqtt demo: cannot connect to the MQTT broker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


async def _demo(args: argparse.Namespace, fixture: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if args.duration is not None:
        loop.call_later(args.duration, stop.set)
    async with (
        EnvoySimulator(fixture, live_seed=_LIVE_SEED) as sim,
        _broker(args) as broker,
    ):
        print(f"# simulated Envoy {sim.serial} (firmware {sim.firmware}) at {sim.url}", flush=True)
        print(f"# MQTT broker {broker.host}:{broker.port}; Ctrl-C to stop", flush=True)
        with tempfile.TemporaryDirectory(prefix="envoy2mqtt-demo-") as tokens:
            settings = _settings(sim, broker, args.fast, Path(tokens))
            await _run_bridge(settings, broker, stop, discovery=args.discovery)
    print("# demo stopped", flush=True)


@contextlib.asynccontextmanager
async def _broker(args: argparse.Namespace) -> AsyncIterator[Endpoint]:
    if args.mqtt_host:
        yield Endpoint(args.mqtt_host, args.mqtt_port or 1883, "3.1.1")
        return
    # amqtt speaks MQTT 3.1.1 only.
    async with EmbeddedBroker(args.mqtt_port) as broker:
        yield Endpoint(broker.host, broker.port, "3.1.1")


@dataclass(frozen=True)
class Endpoint:
    """Where the demo's broker listens."""

    host: str
    port: int
    protocol: str


def _settings(sim: EnvoySimulator, broker: Endpoint, fast: float, tokens: Path) -> Settings:
    envoy: dict[str, Any] = {
        "host": sim.url,
        "name": "Demo Envoy",
        "intervals": {"fast": fast, "normal": max(fast * 2.5, 5), "slow": max(fast, 60)},
    }
    if sim.tls:
        envoy["token"] = sim.issue_token()
    mqtt = {
        "host": broker.host,
        "port": broker.port,
        "protocol": broker.protocol,
        "client_id": "envoy2mqtt-demo",
    }
    return Settings.model_validate(
        {
            "mqtt": mqtt,
            "envoys": [envoy],
            "controls": {"grid_relay": True, "dry_contacts": True, "storage": True},
            "token_cache_dir": tokens,
            "publish": {"health_interval": 30},
        }
    )


async def _run_bridge(
    settings: Settings, broker: Endpoint, stop: asyncio.Event, *, discovery: bool
) -> None:
    bridge = Bridge(settings)
    bridge_task = asyncio.create_task(bridge.run())
    viewer = asyncio.create_task(_view(broker, discovery=discovery))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({bridge_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        bridge.stop()
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bridge_task  # re-raises a refused first connect
        viewer.cancel()
        with contextlib.suppress(BaseException):
            await viewer


async def _view(broker: Endpoint, *, discovery: bool) -> None:
    v5 = broker.protocol == "5"
    version = aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311
    while True:
        try:
            async with aiomqtt.Client(broker.host, broker.port, protocol=version) as client:
                await client.subscribe("envoy2mqtt/#")
                if discovery:
                    await client.subscribe("homeassistant/#")
                async for message in client.messages:
                    topic = message.topic.value
                    if "/bridge/scan/" in topic:
                        continue  # the bridge's own start-up marker
                    payload = message.payload if isinstance(message.payload, bytes) else b""
                    print(f"{topic}  {summarize(payload)}", flush=True)
        except aiomqtt.MqttError:
            await asyncio.sleep(1)  # the broker is restarting; try again
