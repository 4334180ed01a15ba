"""``envoy2mqtt dump HOST --out DIR``: save every known endpoint in the fixture format.

One file per endpoint (named by :func:`~envoy2mqtt.simulator.fixture_store.slug_for`) plus
``<slug>_log.json`` with status, headers and duration, so a dump can be replayed by the
simulator or attached to a bug report. Authorization and cookie headers are dropped and every
registered secret is masked in bodies and header values; MAC, IP and e-mail addresses are
replaced by documentation placeholders (:mod:`envoy2mqtt.cmd.dump_mask`; ``--keep-network``
keeps MAC and IP addresses). An output directory that is not empty is refused unless
``--force`` is given (then files of the same name are replaced, others left alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from envoy2mqtt.cmd.dump_mask import DumpMasker
from envoy2mqtt.cmd.probe import add_connection_arguments, client_from_args, start_logging
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.transport import FullResponse, RetryBudget
from envoy2mqtt.redact import redact_bytes, redact_headers
from envoy2mqtt.simulator.fixture_store import slug_for

NAME = "dump"
HELP = "save the raw answer of every known Envoy endpoint into a fixture directory"

# Everything pyenphase reads or its fixture collector captures (envoy-local-api.md §0, §8).
DUMP_PATHS: tuple[str, ...] = (
    "/info",
    "/home",
    "/production",
    "/production.json",
    "/production.json?details=1",
    "/api/v1/production",
    "/api/v1/production/inverters",
    "/ivp/meters",
    "/ivp/meters/readings",
    "/ivp/meters/pvReading",
    "/ivp/meters/gridReading",
    "/ivp/meters/reports",
    "/ivp/pdm/device_data",
    "/ivp/pdm/energy",
    "/ivp/ensemble/inventory",
    "/ivp/ensemble/secctrl",
    "/ivp/ensemble/power",
    "/ivp/ensemble/status",
    "/ivp/ensemble/dry_contacts",
    "/ivp/ensemble/generator",
    "/ivp/ss/dry_contact_settings",
    "/ivp/ss/gen_config",
    "/ivp/ss/gen_schedule",
    "/ivp/ss/gen_mode",
    "/ivp/ss/pel_settings",
    "/ivp/sc/pvlimit",
    "/admin/lib/tariff",
    "/inventory.json",
    "/inventory.json?deleted=1",
    "/inventory",
    "/inv",
    "/ivp/livedata/status",
)

_DROPPED_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "www-authenticate"})
_DUMP_BUDGET = RetryBudget(attempts=2, seconds=60.0)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``dump`` options."""
    add_connection_arguments(parser)
    parser.add_argument(
        "--out", type=Path, required=True, help="directory to write into (empty or new)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty --out (files of the same name are replaced)",
    )
    parser.add_argument(
        "--keep-network",
        action="store_true",
        help="keep MAC and IP addresses (masked by default; e-mail addresses always are)",
    )


def _refusal(out: Path, force: bool) -> str | None:
    if out.exists() and not out.is_dir():
        return f"--out {out} exists and is not a directory"
    if not force and out.is_dir() and any(out.iterdir()):
        return f"--out {out} is not empty (use --force to write into it anyway)"
    return None


def run(args: argparse.Namespace) -> int:
    """Dump the Envoy; 0 when at least ``/info`` was written, 1 with a one-line error otherwise."""
    start_logging(args)
    out: Path = args.out
    refusal = _refusal(out, args.force)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    masker = DumpMasker(keep_network=args.keep_network)
    try:
        client = client_from_args(args)
        fetched, failed = asyncio.run(fetch_all(client))
        out.mkdir(parents=True, exist_ok=True)
        for path, full in fetched:
            _write(out, path, full, masker)
    except (EnvoyError, ValueError, OSError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(fetched)} endpoints to {out}")
    print(masker.report())
    for path, reason in sorted(failed.items()):
        print(f"not fetched: {path}: {reason}")
    return 0


async def fetch_all(
    client: EnvoyClient,
) -> tuple[list[tuple[str, FullResponse]], dict[str, str]]:
    """Connect with ``client`` (no probing) and GET every endpoint of :data:`DUMP_PATHS`.

    Returns:
        The answers (any status) in order, and path -> error name for transport failures.
    """
    fetched: list[tuple[str, FullResponse]] = []
    failed: dict[str, str] = {}
    try:
        await client.connect()
        for path in DUMP_PATHS:
            try:
                full = await client.transport.request_full(
                    "GET", path, budget=_DUMP_BUDGET, raise_on_auth=False
                )
            except EnvoyError as err:
                failed[path] = type(err).__name__
                continue
            fetched.append((path, full))
    finally:
        await client.close()
    return fetched, failed


def _write(out: Path, path: str, full: FullResponse, masker: DumpMasker) -> None:
    slug = slug_for(path)
    kept = [(k, v) for k, v in full.headers if k.lower() not in _DROPPED_HEADERS]
    log = {
        "headers": redact_headers(kept),
        "code": full.response.status,
        "duration_seconds": round(full.response.elapsed_ms / 1000, 3),
    }
    body = masker.mask(slug, redact_bytes(full.response.body))
    text = (json.dumps(log, indent=4) + "\n").encode()
    (out / slug).write_bytes(body)
    (out / f"{slug}_log.json").write_bytes(masker.mask(f"{slug}_log.json", text))
