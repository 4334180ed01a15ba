"""``envoy2mqtt run --config FILE``: run the bridge until SIGTERM/SIGINT.

Exit codes: 0 after a graceful stop, 1 when the broker refuses us at the first connect
(credentials, authorisation, TLS), 2 for an invalid configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.cmd._common import add_config_argument
from envoy2mqtt.logs import setup_logging
from envoy2mqtt.mqtt.session import MqttFatalError
from envoy2mqtt.settings import ConfigError, Settings, load_settings

NAME = "run"
HELP = "run the bridge (Envoys -> MQTT) until stopped"

EXIT_OK = 0
EXIT_MQTT_REFUSED = 1
EXIT_BAD_CONFIG = 2

_LOGGER = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``--config`` option."""
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Load the settings, set up logging and run the bridge; returns the exit code."""
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"envoy2mqtt: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    level = getattr(args, "log_level", None) or settings.logging.level
    setup_logging(level, settings.logging.format)
    try:
        asyncio.run(serve(settings))
    except MqttFatalError as exc:
        _LOGGER.error("mqtt connection refused error=%s", exc)
        print(f"envoy2mqtt: cannot connect to the MQTT broker: {exc}", file=sys.stderr)
        return EXIT_MQTT_REFUSED
    except KeyboardInterrupt:
        pass  # a second Ctrl-C during shutdown
    return EXIT_OK


async def serve(settings: Settings) -> None:
    """Run a :class:`Bridge` with SIGTERM/SIGINT wired to its graceful stop."""
    bridge = Bridge(settings)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # not on Windows event loops
            loop.add_signal_handler(sig, bridge.stop)
    _LOGGER.info("bridge starting envoys=%d", len(settings.envoys))
    try:
        await bridge.run()
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
