"""``envoy2mqtt demo``: a simulated Envoy, an MQTT broker and the bridge, in one process.

Nothing to install or configure: the simulator serves a real captured system bundled in the
package (IQ Batteries, Enpower, dry contacts) with live-changing values, an embedded broker
listens on 127.0.0.1 (unless ``--mqtt-host`` points at a real one), and every message the
bridge publishes is printed as ``topic  JSON`` (80 columns). Ctrl-C, SIGTERM, ``--duration``
or a closed output pipe end it, and every retained topic it published is removed again.

The demo lives in its own namespace (:mod:`envoy2mqtt.cmd.demo_namespace`): base topic and
discovery ids ``envoy2mqtt-demo``, so it is safe next to a real bridge on the same broker.
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

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.broker import MISSING_HINT, EmbeddedBroker, broker_available
from envoy2mqtt.cmd.demo_namespace import Namespace, remove_retained
from envoy2mqtt.cmd.demo_view import Console
from envoy2mqtt.logs import setup_logging
from envoy2mqtt.mqtt.session import MqttFatalError
from envoy2mqtt.settings import MqttSettings, Settings
from envoy2mqtt.simulator.server import EnvoySimulator

NAME = "demo"
HELP = "run a simulated Envoy, an embedded MQTT broker and the bridge; print the topics"

BUNDLED = Path(__file__).resolve().parent.parent / "demo_fixture"
DEFAULT_FIXTURE = "7.3.517"
_LIVE_SEED = 42
NAMESPACE = Namespace()


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
        "--discovery",
        action="store_true",
        help=(
            "also publish and print Home Assistant discovery configs (ids "
            f"{NAMESPACE.id_prefix}_..., removed on exit); off by default so that a Home "
            "Assistant on an external broker never sees the demo"
        ),
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
    """Run the demo; 0 on Ctrl-C, SIGTERM, ``--duration`` or a closed output pipe."""
    setup_logging(getattr(args, "log_level", None) or "warning")
    try:
        fixture = resolve_fixture(args.fixture)
    except FileNotFoundError as exc:
        print(f"envoy2mqtt demo: {exc}", file=sys.stderr)
        return 2
    if args.fast < 1:
        print("envoy2mqtt demo: --fast must be >= 1", file=sys.stderr)
        return 2
    if not args.mqtt_host and not broker_available():
        print(f"envoy2mqtt demo: {MISSING_HINT}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_demo(args, fixture))
    except MqttFatalError as exc:
        print(f"envoy2mqtt demo: cannot connect to the MQTT broker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


async def _demo(args: argparse.Namespace, fixture: Path) -> int:
    stop = asyncio.Event()
    console = Console(on_closed=stop.set)
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
        console.line(f"# simulated Envoy {sim.serial} (firmware {sim.firmware}) at {sim.url}")
        console.line(f"# MQTT broker {broker.host}:{broker.port}; Ctrl-C to stop")
        console.line(f"# topics below {NAMESPACE.base_topic}/, removed again on exit")
        with tempfile.TemporaryDirectory(prefix="envoy2mqtt-demo-") as tokens:
            settings = _settings(sim, broker, args, Path(tokens))
            try:
                await _run_bridge(settings, console, stop, discovery=args.discovery)
            except MqttFatalError:
                raise  # refused at the first connect: nothing was published
            except BaseException:
                await _clean_up(settings, broker, console)
                raise
            status = await _clean_up(settings, broker, console)
    console.line("# demo stopped")
    return status


@contextlib.asynccontextmanager
async def _broker(args: argparse.Namespace) -> AsyncIterator[Endpoint]:
    if args.mqtt_host:
        yield Endpoint(args.mqtt_host, args.mqtt_port or 1883, "3.1.1", external=True)
        return
    # amqtt speaks MQTT 3.1.1 only.
    async with EmbeddedBroker(args.mqtt_port) as broker:
        yield Endpoint(broker.host, broker.port, "3.1.1", external=False)


@dataclass(frozen=True)
class Endpoint:
    """Where the demo's broker listens."""

    host: str
    port: int
    protocol: str
    external: bool


def _settings(
    sim: EnvoySimulator, broker: Endpoint, args: argparse.Namespace, tokens: Path
) -> Settings:
    fast = args.fast
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
        "client_id": NAMESPACE.base_topic,
        "base_topic": NAMESPACE.base_topic,
    }
    homeassistant = {"enabled": args.discovery, "discovery_prefix": NAMESPACE.discovery_prefix}
    return Settings.model_validate(
        {
            "mqtt": mqtt,
            "homeassistant": homeassistant,
            "envoys": [envoy],
            "controls": {"grid_relay": True, "dry_contacts": True, "storage": True},
            "token_cache_dir": tokens,
            "publish": {"health_interval": 30},
        }
    )


async def _run_bridge(
    settings: Settings, console: Console, stop: asyncio.Event, *, discovery: bool
) -> None:
    bridge = Bridge(settings, id_prefix=NAMESPACE.id_prefix)
    bridge_task = asyncio.create_task(bridge.run())
    viewer = asyncio.create_task(_view(settings.mqtt, console, discovery=discovery))
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


async def _clean_up(settings: Settings, broker: Endpoint, console: Console) -> int:
    """Remove the demo's retained topics from an external broker; 1 when some are left.

    The embedded broker keeps nothing beyond the process, so there is nothing to remove.
    """
    if not broker.external:
        return 0
    try:
        result = await remove_retained(settings.mqtt, NAMESPACE)
    except (aiomqtt.MqttError, TimeoutError, OSError) as exc:
        print(f"envoy2mqtt demo: retained topics not removed: {exc}", file=sys.stderr)
        return 1
    console.line(f"# removed {result.removed} retained topics")
    if result.left:
        print(f"envoy2mqtt demo: {result.left} retained topics left", file=sys.stderr)
        return 1
    return 0


async def _view(mqtt: MqttSettings, console: Console, *, discovery: bool) -> None:
    version = aiomqtt.ProtocolVersion.V5 if mqtt.protocol == "5" else aiomqtt.ProtocolVersion.V311
    while True:
        try:
            async with aiomqtt.Client(mqtt.host, mqtt.port, protocol=version) as client:
                for topic_filter in NAMESPACE.filters(discovery=discovery):
                    await client.subscribe(topic_filter)
                async for message in client.messages:
                    topic = message.topic.value
                    if "/bridge/scan/" in topic or not NAMESPACE.owns(topic):
                        continue  # the bridge's start-up marker; others' discovery
                    payload = message.payload if isinstance(message.payload, bytes) else b""
                    console.message(topic, payload)
        except aiomqtt.MqttError:
            await asyncio.sleep(1)  # the broker is restarting; try again
