"""``envoy2mqtt simulate``: serve a captured fixture as a fake Envoy until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from envoy2mqtt.cmd.sim_config import RunConfig, parse_broker, write_run_config
from envoy2mqtt.simulator.fixture_store import FixtureMode
from envoy2mqtt.simulator.livedata import DEFAULT_STREAM_SECONDS
from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.tokens import DEFAULT_ACCOUNTS

NAME = "simulate"
HELP = "serve a fixture directory as a simulated Envoy (with a fake Enlighten) until stopped"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` options."""
    parser.add_argument("--fixture", type=Path, required=True, help="fixture directory")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve HTTPS (default: by firmware, HTTPS for >= 7)",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in FixtureMode],
        default=FixtureMode.DEVICE.value,
        help="device: each URL from its own capture; golden: pyenphase's URL rules",
    )
    parser.add_argument("--live-seed", type=int, default=None, help="move values (seeded)")
    parser.add_argument(
        "--token-lifetime", type=float, default=None, help="seconds new tokens stay valid"
    )
    parser.add_argument(
        "--livedata",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve /ivp/livedata/status (default: device mode, FW >= 7 with an Enpower or CTs)",
    )
    parser.add_argument(
        "--livedata-stream-seconds",
        type=float,
        default=DEFAULT_STREAM_SECONDS,
        help="how long one live-stream enable request lasts (default: 900)",
    )
    parser.add_argument(
        "--mqtt",
        default="127.0.0.1:1883",
        metavar="HOST[:PORT]",
        help="broker written into the printed bridge config (default: 127.0.0.1:1883)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the simulator; returns 0 after a clean stop, 2 on bad arguments."""
    if not (args.fixture / "info").is_file():
        print(f"error: {args.fixture} is not a fixture directory (no info file)", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print("error: --port must be 0..65535", file=sys.stderr)
        return 2
    if not args.livedata_stream_seconds > 0:
        print("error: --livedata-stream-seconds must be positive", file=sys.stderr)
        return 2
    try:
        args.broker = parse_broker(args.mqtt)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args))
    except _CannotListen as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `simulate | head`: the reader is gone, which is no error; stop flushing into it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


class _CannotListen(Exception):
    """The simulator could not open its port (the text is the OS reason)."""


async def _serve(args: argparse.Namespace) -> None:
    sim = EnvoySimulator(
        args.fixture,
        host=args.host,
        port=args.port,
        tls=args.tls,
        mode=args.mode,
        live_seed=args.live_seed,
        token_lifetime=args.token_lifetime,
        livedata=args.livedata,
        livedata_stream_seconds=args.livedata_stream_seconds,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await sim.start()
    except OSError as err:
        raise _CannotListen(err.strerror or str(err)) from None
    # The bridge config and CA file live as long as the simulator they point at.
    with tempfile.TemporaryDirectory(prefix=f"envoy2mqtt-sim-{sim.serial}-") as tmp:
        try:
            _announce(sim, write_run_config(sim, args.broker, Path(tmp)))
            await stop.wait()
        finally:
            await sim.stop()
    print("simulator stopped", flush=True)


def _announce(sim: EnvoySimulator, config: RunConfig) -> None:
    owner = DEFAULT_ACCOUNTS[0]
    auth = "token" if sim.state.uses_tokens else "digest"
    print(f"simulated Envoy serial={sim.serial} firmware={sim.firmware} auth={auth}")
    print(f"url={sim.url}")
    if sim.livedata is not None:
        print(f"livedata={sim.url}/ivp/livedata/status")
    print(f"enlighten login_url={sim.url}/login/login.json token_url={sim.url}/tokens")
    if config.ca_file is not None:
        print(f"enlighten ca_file={config.ca_file}")
    print(f"enlighten account email={owner.email} password={owner.password}")
    print(f"bridge config={config.config_file}  (for envoy2mqtt run --config; gone at stop):")
    print("\n".join(f"    {line}" for line in config.text.splitlines()))
    print(f"control api={sim.url}/__sim__/status  (Ctrl-C to stop)", flush=True)
