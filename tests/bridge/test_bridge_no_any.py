"""The bridge is handed typed snapshots: no ``Any``, no attribute probing, no pulling.

Issue 10 ("push, don't pull"): the worker gets an immutable, fully typed ``EnvoySnapshot``
from the client and hands it on, so nothing in ``envoy2mqtt/bridge/`` needs ``typing.Any``
or ``getattr``/``hasattr`` to find out what it was given, and nothing asks the client for
one (``client.snapshot()``): setup, a poll, a write (its re-read) and a re-probe each
return the snapshot they produced.
"""

from __future__ import annotations

import ast
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[2] / "envoy2mqtt" / "bridge"
PROBES = {"getattr", "hasattr"}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "typing":
            found += [f"imports Any (line {node.lineno})" for a in node.names if a.name == "Any"]
        elif isinstance(node, ast.Attribute) and node.attr == "Any":
            found.append(f"uses typing.Any (line {node.lineno})")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in PROBES
        ):
            found.append(f"calls {node.func.id} (line {node.lineno})")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "snapshot"
        ):
            found.append(f"pulls a snapshot with .snapshot() (line {node.lineno})")
    return found


def test_the_checker_sees_what_it_forbids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import Any\nimport typing\nx: typing.Any = getattr(1, 'a')\n"
        "y = self.client.snapshot()\nz = worker.snapshot\n"
    )
    assert len(_offences(sample)) == 4


def test_no_module_of_the_bridge_uses_any_probes_attributes_or_pulls_snapshots() -> None:
    modules = sorted(BRIDGE.glob("*.py"))
    assert len(modules) > 10  # the package is where this test expects it
    offences = {p.name: found for p in modules if (found := _offences(p))}
    assert not offences, offences
