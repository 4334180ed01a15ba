"""Every relative link in the project's markdown points to a file (and heading) that exists.

Checked: inline links and images ``[text](target)``, reference definitions ``[id]: target``,
HTML ``href``/``src`` attributes, and code spans that name a markdown file (`` `x.md` ``), in
every ``*.md`` of the repository. Anchors into markdown files must match a heading's
GitHub anchor (lower case, punctuation dropped, spaces to ``-``, ``-1``… for repeats) or an
explicit ``id``/``name`` attribute.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SKIPPED_DIRS = {"node_modules", "build", "dist", "venv", "__pycache__"}

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_INLINE = re.compile(r"\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.M)
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
_HTML_ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_MD_IN_CODE = re.compile(r"^[\w./-]+\.md(?:#[\w-]+)?$")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def markdown_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.md"):
        parts = path.relative_to(ROOT).parts[:-1]
        if any(p.startswith(".") or p in _SKIPPED_DIRS or p.endswith(".egg-info") for p in parts):
            continue
        found.append(path)
    return sorted(found)


def split_code(text: str) -> tuple[str, list[str]]:
    """The prose without fenced blocks and code spans, and the code spans' contents."""
    prose, spans, fenced = [], [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            prose.append("")
            continue
        prose.append("" if fenced else line)
    joined = "\n".join(prose)
    spans = [match.group(2).strip() for match in _CODE_SPAN.finditer(joined)]
    return _CODE_SPAN.sub("", joined), spans


def heading_slug(text: str) -> str:
    """GitHub's anchor for a heading text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor a markdown file offers."""
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    lines = prose.splitlines()
    found: set[str] = set(_HTML_ID.findall(prose))
    counts: dict[str, int] = {}
    for index, line in enumerate(lines):
        heading = None
        if match := _ATX.match(line):
            heading = match.group(2)
        elif _SETEXT.match(line) and index and lines[index - 1].strip():
            previous = lines[index - 1]
            if not re.match(r"^\s*([-*+>|#]|\d+\.)", previous):
                heading = previous
        if heading is None:
            continue
        slug = heading_slug(heading)
        repeat = counts.get(slug, 0)
        counts[slug] = repeat + 1
        found.add(slug if repeat == 0 else f"{slug}-{repeat}")
    return frozenset(found)


def links(path: Path) -> list[str]:
    prose, spans = split_code(path.read_text(encoding="utf-8"))
    targets = [m.strip("<>") for m in _INLINE.findall(prose) + _REFERENCE.findall(prose)]
    targets += _HTML.findall(prose)
    targets += [span for span in spans if _MD_IN_CODE.match(span)]
    return targets


def problem(source: Path, target: str, *, code_span: bool) -> str | None:
    """Why ``target`` (as written in ``source``) is broken, or None."""
    if _SCHEME.match(target):
        return None
    file_part, _, anchor = unquote(target).partition("#")
    if not file_part:
        resolved = source
    elif file_part.startswith("/"):
        resolved = ROOT / file_part.lstrip("/")
    else:
        resolved = (source.parent / file_part).resolve()
        # A code span may name a file relative to the repository root instead.
        if code_span and not resolved.exists():
            resolved = ROOT / file_part
    if not resolved.exists():
        return f"{target}: no such file"
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}"
    return None


FILES = markdown_files()


def test_the_markdown_files_are_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in FILES}
    assert {"README.md", "docs/mqtt-contract.md", "docs/consumers.md"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    _, spans = split_code(path.read_text(encoding="utf-8"))
    broken = [
        reason
        for target in links(path)
        if (reason := problem(path, target, code_span=target in spans)) is not None
    ]
    assert broken == [], f"{path.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Install size: the demo extra", "install-size-the-demo-extra"),
        ("1. Decode: bytes → data model, envoy2mqtt vs pyenphase",
         "1-decode-bytes--data-model-envoy2mqtt-vs-pyenphase"),
        ("The `demo`'s namespace", "the-demos-namespace"),
        ("Using [Node-RED](https://nodered.org) *today*", "using-node-red-today"),
        ("snake_case stays", "snake_case-stays"),
    ],
)  # fmt: skip
def test_heading_slugs_follow_github(heading: str, slug: str) -> None:
    assert heading_slug(heading) == slug


def test_a_broken_link_and_a_missing_anchor_are_found() -> None:
    doc = ROOT / "docs" / "consumers.md"
    assert problem(doc, "nope.md", code_span=False) == "nope.md: no such file"
    assert problem(doc, "mqtt-contract.md#no-such-heading", code_span=False) == (
        "mqtt-contract.md#no-such-heading: no heading #no-such-heading in docs/mqtt-contract.md"
    )
    assert problem(doc, "../README.md#run-the-tests", code_span=False) is None
    assert problem(doc, "https://example.com/x.md", code_span=False) is None
