"""Helpers shared by the benchmark scripts: fixture discovery, statistics, table printing."""

from __future__ import annotations

import math
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = REPO_ROOT / "fixtures"


def fixture_dirs(names: Sequence[str] | None = None) -> list[Path]:
    """Return the fixture directories to run, all of them when ``names`` is empty.

    Raises:
        SystemExit: a requested fixture does not exist (a clear message, nothing run).
    """
    every = sorted(p for p in FIXTURES_DIR.iterdir() if (p / "info").is_file())
    if not names:
        return every
    by_name = {p.name: p for p in every}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SystemExit(f"unknown fixture(s): {', '.join(missing)}")
    return [by_name[n] for n in names]


def median(values: Sequence[float]) -> float:
    """Return the median of a non-empty sequence."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], pct: float) -> float:
    """Return the ``pct`` percentile (nearest-rank) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def geometric_mean(values: Iterable[float]) -> float:
    """Return the geometric mean of positive values (nan when there are none)."""
    vals = [v for v in values if v > 0]
    if not vals:
        return math.nan
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render rows as a Markdown table with padded columns (readable raw and rendered)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def machine_facts() -> str:
    """Return a one-line description of the machine and interpreter."""
    cpu = "unknown CPU"
    try:
        for raw in Path("/proc/cpuinfo").read_text().splitlines():
            if raw.startswith("model name"):
                cpu = raw.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"python={platform.python_version()} cores={os.cpu_count()} cpu={cpu!r} "
        f"os={platform.system()} {platform.release()}"
    )
