"""Every source file the project's docs name in a code span exists.

A doc that names `catalog/storage.py` or `benchmarks/_soakcheck.py` sends the reader there;
after a module moves, such a name is silently wrong. A name with a folder must resolve from
the repository root or from one of the package roots below (docs write `updaters/tariff.py`
inside a section about `envoy/`); a bare file name must exist somewhere in the tree.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.project.test_docs_links import markdown_files

ROOT = Path(__file__).resolve().parents[2]
_SPAN = re.compile(r"`([\w./-]+\.(?:py|toml|yaml|json|cfg))(?:[:#][^`]*)?`")
_BASES = (ROOT, ROOT / "envoy2mqtt", ROOT / "envoy2mqtt" / "envoy", ROOT / "tests")
# Envoy URL paths and places on a user's machine are not files of ours.
_NOT_OURS = ("/", "~/", "site-packages/", "config/")
# Other projects' files the docs cite by name, each where its project keeps it.
_ELSEWHERE = frozenset(
    {
        "addons.cfg",  # openHAB's add-on list (docs/consumers.md)
        "homeassistant/components/sensor/recorder.py",  # HA core (docs/mqtt-contract.md)
        "asyncio/sslproto.py",  # CPython's standard library (docs/performance.md)
    }
)


@cache
def _tracked_names() -> frozenset[str]:
    skip = {".git", "node_modules", "__pycache__"}
    return frozenset(p.name for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts))


def _exists(name: str) -> bool:
    if "/" not in name:
        return name in _tracked_names()
    return any((base / name).is_file() for base in _BASES)


def _named_paths(text: str) -> list[str]:
    found = (m[1] for m in _SPAN.finditer(text))
    return [n for n in found if not n.startswith(_NOT_OURS) and n not in _ELSEWHERE]


@pytest.mark.parametrize("doc", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_named_source_file_exists(doc: Path) -> None:
    missing = sorted({n for n in _named_paths(doc.read_text()) if not _exists(n)})
    assert missing == [], f"{doc.relative_to(ROOT)} names files that do not exist: {missing}"


def test_a_moved_module_is_reported() -> None:
    assert _named_paths("see `mqtt/topics.py` and `catalog/topics.py:12`") == [
        "mqtt/topics.py",
        "catalog/topics.py",
    ]
    assert not _exists("mqtt/topics.py")
    assert _exists("catalog/topics.py")
    assert _exists("updaters/tariff.py")
