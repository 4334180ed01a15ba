"""Shared helpers for the catalog tests: fixture snapshots and HA-like template rendering."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from envoy2mqtt.catalog.snapshot import Snapshot

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


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


def _timestamp_custom(value: Any, fmt: str, local: bool = True) -> str:
    # HA's filter; the catalogue always asks for UTC (local=False).
    assert local is False
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC).strftime(fmt)


_ENV = ImmutableSandboxedEnvironment()
_ENV.filters["timestamp_custom"] = _timestamp_custom


@cache
def _compiled(template: str) -> Template:
    return _ENV.from_string(template)


def render(template: str, payload: dict[str, Any]) -> str:
    """Render an HA value_template the way HA does for a JSON payload (sandboxed)."""
    return _compiled(template).render(value_json=payload).strip()
