"""Shared helpers for the catalog tests: fixture snapshots and plain Jinja2 template rendering."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from envoy2mqtt.catalog.snapshot import Snapshot

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


# One fixture of each kind of system (legacy firmware, three-phase CTs, IQ Batteries with an
# Enpower, AC Batteries, an IQ Meter Collar, a generator): for the tests too slow or too
# detailed to run on every fixture.
SYSTEM_FIXTURES = [
    "3.17.3",
    "7.3.466_with_cts_3phase",
    "7.3.517",
    "8.2.4382_ACB",
    "8.3.1598_collar",
    "8.3.5169_with_generator",
]


def fixture_names() -> list[str]:
    """Every fixture whose golden holds an Envoy state (not an error golden)."""
    paths = sorted(FIXTURES.glob("*/expected.json"))
    return [p.parent.name for p in paths if "error" not in json.loads(p.read_text())]


@cache
def snapshot(name: str) -> Snapshot:
    """The snapshot of one fixture, with token expiry and last poll filled in."""
    expected = json.loads((FIXTURES / name / "expected.json").read_text())
    snap = Snapshot.from_expected(expected)
    return dataclasses.replace(snap, token_expires_at=1_900_000_000, last_poll=1.7e9)


# A minimal environment: no HA filters or functions, and a key the template reads but the
# payload lacks is an error (HA would render an empty state and log a warning).
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined)


@cache
def _compiled(template: str) -> Template:
    return _ENV.from_string(template)


def render(template: str, payload: dict[str, Any]) -> str:
    """Render a value_template for a JSON payload as HA does, without any HA extension."""
    return _compiled(template).render(value_json=payload).strip()
