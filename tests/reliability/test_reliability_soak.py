"""Smoke test of the soak benchmark (``benchmarks/soak.py``) in a tiny configuration.

The soak itself is run by hand for an hour (docs/reliability.md); here it only has to start
its processes, inject faults, restart the broker once, check messages and print its table.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _row(output: str, first_cell: str) -> str:
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == first_cell:
            return cells[1]
    raise AssertionError(f"no row {first_cell!r} in:\n{output}")


def test_soak_runs_faults_and_a_broker_restart_and_prints_its_table() -> None:
    args = [
        "--duration=6",
        "--envoys=2",
        "--fixture=8.3.5169_with_generator",
        "--fixture=5.0.62",
        "--fault-interval=1",
        "--broker-restart=3",
        "--fast=1",
        "--normal=1",
        "--slow=2",
        "--warmup=0",
        "--kinds=error,timeout,unauthorized,garbage,truncated,wrong_type,huge",
        "--ready-timeout=30",
        "--report-interval=2",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode in (0, 1), proc.stderr  # 1 = wrong values seen: still a report
    assert "# fleet online: True" in out
    assert int(_row(out, "faults injected")) >= 3  # kinds with downtimes are left out (slow)
    assert _row(out, "broker restarts / worst return (s)").startswith("1 / ")
    assert int(_row(out, "state messages checked")) > 0
    assert _row(out, "all Envoys online after faults cleared") == "True"
    assert _row(out, "bridge exit code (SIGTERM)") == "0"
    start_rss, end_rss = (float(v) for v in _row(out, "RSS start / end (MiB)").split(" / "))
    assert start_rss > 0
    assert end_rss > 0
    assert int(_row(out, "asyncio tasks start / end").split(" / ")[1]) > 0
