"""Simulated Envoys for the soak benchmark, one process, driven over their control API.

Run as ``python -m benchmarks._soakfleet --workdir W --fixture A --fixture B ... --count N``.
Envoy ``i`` serves a copy of fixture ``i mod len(fixtures)`` with its own serial and live
values. One extra HTTP-only simulator acts as the Enlighten cloud for the whole fleet: a
bridge has one ``login_url``/``token_url`` for all its Envoys, while each simulator's own
fake cloud only mints tokens for its own serial, so the shared cloud routes ``/tokens`` to
the authority of the requested serial. Once all listen, one JSON line is printed:
``{"cloud": URL, "envoys": [{"url", "serial", "fixture", "tokens"}, ...]}``; then the process
serves until SIGTERM/SIGINT. Faults are injected by the soak driver via ``/__sim__/faults``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._simfleet import clone_fixture
from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.tokens import Enlighten, TokenAuthority


@dataclass
class FleetCloud(Enlighten):
    """One fake Enlighten for many gateways: tokens are minted by the serial's authority."""

    authorities: dict[str, TokenAuthority] = field(default_factory=dict)

    def token(self, session_id: str, serial: str, username: str) -> tuple[int, str]:
        """Answer ``/tokens`` for any serial of the fleet (403 for unknown serials)."""
        authority = self.authorities.get(serial)
        if authority is None:
            self.token_calls += 1
            return 403, "Serial number not associated with this account"
        self.authority = authority
        return super().token(session_id, serial, username)


async def serve(fixtures: list[Path], count: int, workdir: Path) -> None:
    """Start the fleet and its cloud, announce them, serve until told to stop."""
    sims: list[EnvoySimulator] = []
    described: list[dict[str, Any]] = []
    for index in range(count):
        fixture = fixtures[index % len(fixtures)]
        directory = workdir / f"envoy-{index:04d}"
        clone_fixture(fixture, directory, index + 1)
        sim = EnvoySimulator(directory, live_seed=index)
        sims.append(sim)
    cloud_sim = EnvoySimulator(fixtures[0], tls=False)
    cloud = FleetCloud(authority=sims[0].tokens, accounts=dict(cloud_sim.enlighten.accounts))
    cloud.authorities = {sim.serial: sim.tokens for sim in sims}
    for sim in [*sims, cloud_sim]:
        sim.enlighten = cloud
    for sim, index in zip(sims, range(count), strict=True):
        await sim.start()
        described.append(
            {
                "url": sim.url,
                "serial": sim.serial,
                "fixture": fixtures[index % len(fixtures)].name,
                "tokens": sim.state.uses_tokens,
            }
        )
    await cloud_sim.start()
    print(json.dumps({"cloud": cloud_sim.url, "envoys": described}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for sim in [*sims, cloud_sim]:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description="simulated Envoys for the soak benchmark")
    parser.add_argument("--fixture", type=Path, action="append", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.count < 1 or not all((f / "info").is_file() for f in args.fixture):
        parser.error("--count must be >= 1 and every --fixture a fixture directory")
    asyncio.run(serve(args.fixture, args.count, args.workdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
