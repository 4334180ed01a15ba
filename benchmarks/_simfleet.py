"""N simulated Envoys in one process, each with its own serial, for the fleet benchmark.

Run as ``python -m benchmarks._simfleet --fixture DIR --count N --workdir W``. Each instance
serves a copy of the fixture (hard links, with the serial in ``info`` rewritten so that the
bridge sees N different gateways). Once all listen, one JSON line is printed on stdout:
``[{"url": ..., "serial": ..., "token": ...}, ...]`` (a token is minted for token firmware);
the process then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from envoy2mqtt.simulator.server import EnvoySimulator

_SN = re.compile(rb"<sn>([^<]*)</sn>")


def clone_fixture(source: Path, target: Path, index: int) -> str:
    """Copy ``source`` to ``target`` (hard links) with a unique serial; return the serial."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name != "info":
            dest = target / item.name
            if not dest.exists():
                try:
                    os.link(item, dest)
                except OSError:
                    shutil.copyfile(item, dest)
    info = (source / "info").read_bytes()
    match = _SN.search(info)
    base = match[1].decode() if match else "000000000000"
    serial = f"{base[: max(0, len(base) - 5)]}{index:05d}"
    (target / "info").write_bytes(_SN.sub(f"<sn>{serial}</sn>".encode(), info, count=1))
    return serial


async def serve(fixture: Path, count: int, workdir: Path, live: bool) -> None:
    """Start ``count`` simulators, announce them, serve until told to stop."""
    sims: list[EnvoySimulator] = []
    described: list[dict[str, Any]] = []
    for index in range(count):
        directory = workdir / f"envoy-{index:04d}"
        clone_fixture(fixture, directory, index)
        sim = EnvoySimulator(directory, live_seed=index if live else None)
        await sim.start()
        sims.append(sim)
        token = sim.issue_token() if sim.state.uses_tokens else None
        described.append({"url": sim.url, "serial": sim.serial, "token": token})
    print(json.dumps(described), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for sim in sims:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description="run N simulated Envoys")
    parser.add_argument("--fixture", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--live", action="store_true", help="moving values (seed = index)")
    args = parser.parse_args(argv)
    if args.count < 1 or not (args.fixture / "info").is_file():
        parser.error("--count must be >= 1 and --fixture a fixture directory")
    asyncio.run(serve(args.fixture, args.count, args.workdir, args.live))
    return 0


if __name__ == "__main__":
    sys.exit(main())
