"""Shared pytest setup: every module in ``tests/plugins`` is loaded as a plugin.

Helpers that many test files need (the real mosquitto broker, the Envoy simulator) live in
their own plugin module so that adding one touches no shared file.
"""

from __future__ import annotations

from pathlib import Path

pytest_plugins = sorted(
    f"tests.plugins.{p.stem}"
    for p in (Path(__file__).parent / "plugins").glob("*.py")
    if p.stem != "__init__"
)
