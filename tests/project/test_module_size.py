"""No module in envoy2mqtt/ grows past 400 lines (DEVELOPERS.md: split by job instead).

``KNOWN_OFFENDERS`` lists the modules still over the limit while their splits are under way
(issue 10), each with the size it had when it was listed. The list may only shrink: a listed
module that is now within the limit, or no longer exists, fails the test until it is removed
from the list; a listed module that grew past its recorded size fails it; and any module not
listed that is over the limit fails it too. The goal is an empty list.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "envoy2mqtt"
MAX_LINES = 400

#: module (relative to envoy2mqtt/) -> lines when it was listed; lower a number when the
#: module shrinks, never raise one.
KNOWN_OFFENDERS: dict[str, int] = {}


def _line_counts() -> dict[str, int]:
    return {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_no_module_over_the_limit_except_the_known_offenders() -> None:
    counts = _line_counts()
    new = {name: n for name, n in counts.items() if n > MAX_LINES and name not in KNOWN_OFFENDERS}
    assert not new, (
        f"modules over {MAX_LINES} lines (split them by job; do not add them to "
        f"KNOWN_OFFENDERS): {new}"
    )


def test_the_known_offenders_do_not_grow() -> None:
    counts = _line_counts()
    grown = {
        name: f"{counts[name]} > {limit}"
        for name, limit in KNOWN_OFFENDERS.items()
        if counts.get(name, 0) > limit
    }
    assert not grown, f"known offenders grew (split them by job instead): {grown}"


def test_the_known_offenders_list_only_shrinks() -> None:
    counts = _line_counts()
    fixed = sorted(name for name in KNOWN_OFFENDERS if counts.get(name, 0) <= MAX_LINES)
    assert not fixed, (
        f"now within {MAX_LINES} lines or gone (moved or split): remove from KNOWN_OFFENDERS "
        f"in {Path(__file__).name}: {fixed}"
    )
