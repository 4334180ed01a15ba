"""``envoy2mqtt probe HOST``: connect to one Envoy, probe it and print what it offers."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from envoy2mqtt.envoy.auth.enlighten import LOGIN_URL, TOKEN_URL, EnlightenClient, ca_context
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.export import export_state
from envoy2mqtt.envoy.snapshot import EnvoySnapshot
from envoy2mqtt.envoy.transport import DATA_BUDGET, INFO_BUDGET
from envoy2mqtt.logs import setup_logging

NAME = "probe"
HELP = "connect to an Envoy, detect its features and print them with current values"

EXIT_FAILED = 1
_CLI_CA_HINT = "pass --enlighten-ca-file with the CA certificate that signed it"


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add HOST and the credential/connection options shared by ``probe`` and ``dump``."""
    parser.add_argument("host", metavar="HOST", help="name or IP, optional :port and scheme")
    parser.add_argument("--username", help="Enlighten e-mail (FW >= 7) or local user (FW < 7)")
    parser.add_argument(
        "--password",
        default=os.environ.get("ENVOY_PASSWORD"),
        help="password for --username (default: $ENVOY_PASSWORD, keeps it out of ps)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("ENVOY_TOKEN"),
        help="Envoy token for FW >= 7 (default: $ENVOY_TOKEN)",
    )
    parser.add_argument("--serial", help="expected serial; fail if the host reports another")
    parser.add_argument("--token-cache-dir", help="reuse/store tokens in this directory")
    parser.add_argument("--timeout", type=float, default=45.0, help="seconds per request")
    parser.add_argument(
        "--attempts", type=int, default=4, help="tries per request on transport errors"
    )
    parser.add_argument(
        "--login-url", default=LOGIN_URL, help="Enlighten login URL (default: %(default)s)"
    )
    parser.add_argument(
        "--token-url", default=TOKEN_URL, help="Enlighten token URL (default: %(default)s)"
    )
    parser.add_argument(
        "--enlighten-ca-file",
        type=Path,
        help="trust this PEM CA for Enlighten instead of the system CAs (simulators only)",
    )


def client_from_args(args: argparse.Namespace) -> EnvoyClient:
    """Build an :class:`EnvoyClient` from the options of :func:`add_connection_arguments`.

    Raises:
        ValueError: HOST is invalid or the options contradict each other.
    """
    if args.timeout <= 0:
        raise ValueError("--timeout must be > 0")
    if args.attempts < 1:
        raise ValueError("--attempts must be >= 1")
    if args.password and not args.username:
        raise ValueError("--password needs --username")
    try:
        cloud_ssl = ca_context(args.enlighten_ca_file)
    except (OSError, ssl.SSLError) as err:
        msg = f"--enlighten-ca-file {args.enlighten_ca_file}: no readable PEM certificate ({err})"
        raise ValueError(msg) from None
    enlighten = EnlightenClient(
        args.login_url, args.token_url, ssl_context=cloud_ssl, ca_hint=_CLI_CA_HINT
    )
    return EnvoyClient(
        args.host,
        username=args.username,
        password=args.password,
        token=args.token,
        serial=args.serial,
        token_cache_dir=args.token_cache_dir,
        enlighten=enlighten,
        owns_enlighten=True,
        timeout=args.timeout,
        budget=replace(DATA_BUDGET, attempts=args.attempts),
        info_budget=replace(INFO_BUDGET, attempts=args.attempts),
    )


def start_logging(args: argparse.Namespace) -> None:
    """Log to stderr at ``--log-level`` (default warning, so output stays readable)."""
    setup_logging(getattr(args, "log_level", None) or "warning")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``probe`` options."""
    add_connection_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the full state as JSON (expected.json form)"
    )


def run(args: argparse.Namespace) -> int:
    """Probe the Envoy; 0 on success, 1 with a one-line error otherwise."""
    start_logging(args)
    try:
        client = client_from_args(args)
        state, summary = asyncio.run(_probe(client))
    except (EnvoyError, ValueError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(state, indent=2, sort_keys=True))
    else:
        print(summary)
    return 0


async def _probe(client: EnvoyClient) -> tuple[dict[str, Any], str]:
    try:
        await client.setup()
        result = await client.update()
        snapshot = result.snapshot
        state = export_state(snapshot.info, snapshot.probe, snapshot.data)
        lines = describe(state, snapshot)
        if result.failed:
            lines.append("failed groups: " + ", ".join(sorted(result.failed)))
        return state, "\n".join(lines)
    finally:
        await client.close()


def describe(state: dict[str, Any], snapshot: EnvoySnapshot) -> list[str]:
    """Human summary of an exported state (one fact per line)."""
    metered = "metered" if state["is_metered"] else "standard"
    lines = [
        f"Envoy {state['serial_number']} firmware {state['firmware']} "
        f"part {state['part_number']} ({metered})",
        f"model: {state['envoy_model']}",
        f"auth: {_auth_line(snapshot)}",
        f"features: {', '.join(state['supported_features']) or 'none'}",
        _phase_line(state, snapshot.probe.meter_types),
    ]
    data = state["data"]
    for label, key in (
        ("production", "system_production"),
        ("consumption", "system_consumption"),
        ("net consumption", "system_net_consumption"),
    ):
        if data.get(key):
            lines.append(f"{label}: {_energy(data[key])}")
    lines.extend(_battery_lines(data))
    if data.get("inverters"):
        lines.append(f"inverters: {len(data['inverters'])}")
    return lines


def _auth_line(snapshot: EnvoySnapshot) -> str:
    if snapshot.auth_mode != "token":
        return snapshot.auth_mode or "none"
    expires = snapshot.token_expires_at
    when = datetime.fromtimestamp(expires, tz=UTC).isoformat(timespec="minutes") if expires else "?"
    return f"token ({snapshot.token_type or 'unknown'}, expires {when})"


def _phase_line(state: dict[str, Any], meter_types: Sequence[str]) -> str:
    # Every enabled CT in /ivp/meters order, not only the three pyenphase names a field for.
    cts = list(meter_types)
    mode = f" ({state['phase_mode']})" if state.get("phase_mode") else ""
    listed = f" ({', '.join(cts)})" if cts else ""
    return f"phases: {state['phase_count']}{mode}, CTs: {state['ct_meter_count']}{listed}"


def _energy(values: dict[str, Any]) -> str:
    return (
        f"{values['watts_now']} W now, today {values['watt_hours_today']} Wh, "
        f"lifetime {values['watt_hours_lifetime']} Wh"
    )


def _battery_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    if aggregate := data.get("encharge_aggregate"):
        lines.append(
            f"battery: {aggregate['state_of_charge']} %, "
            f"{aggregate['available_energy']} Wh of {aggregate['max_available_capacity']} Wh"
        )
    if acb := data.get("acb_power"):
        lines.append(f"AC battery: {acb['state_of_charge']} %, {acb['power']} W ({acb['state']})")
    return lines
