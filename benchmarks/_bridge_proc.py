"""Run one bridge from a config file until SIGTERM (the process the fleet benchmark measures).

``python -m benchmarks._bridge_proc CONFIG``: the same :class:`~envoy2mqtt.bridge.app.Bridge` the
``run`` command starts, with the configured logging, and nothing else in the process.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.logs import setup_logging
from envoy2mqtt.settings import load_settings


async def _run(config: str) -> None:
    settings = load_settings(config)
    setup_logging(settings.logging.level, settings.logging.format)
    bridge = Bridge(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, bridge.stop)
    await bridge.run()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``argv[0]`` is the config file."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks._bridge_proc CONFIG", file=sys.stderr)
        return 2
    asyncio.run(_run(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
