"""Smoke tests: every benchmark script runs in a tiny configuration and prints its table.

No timing is asserted anywhere: numbers vary by machine; the benchmarks are run, printed and
compared by people (docs/performance.md), never pass/fail on speed.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import _common
from benchmarks.decode import Envoy2MqttSide, FixtureResult, render

REPO = Path(__file__).resolve().parents[2]


def _run(module: str, *args: str, timeout: float = 50.0) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"{module} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _table_row(output: str, first_cell: str) -> list[str]:
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row for {first_cell!r} in:\n{output}")


def test_decode_runs_and_prints_a_measured_row() -> None:
    out = _run(
        "benchmarks.decode",
        "--repeat=3",
        "--warmup=1",
        "--fixture=7.6.175_with_cts",
        "--fixture=3.7.0",
        "--no-pyenphase",
    )
    assert "| fixture" in out
    row = _table_row(out, "7.6.175_with_cts")
    assert float(row[1]) > 0  # envoy2mqtt µs measured
    assert row[5].startswith("ok/")  # and its data model equals the golden
    assert _table_row(out, "3.7.0")[0] == "3.7.0"  # an error fixture still gets its row


def test_decode_only_times_the_decodes_of_a_verified_update() -> None:
    args = ["--repeat=3", "--warmup=1", "--fixture=8.3.5169_with_generator", "--no-pyenphase"]
    full = _table_row(_run("benchmarks.decode", *args), "8.3.5169_with_generator")
    out = _run("benchmarks.decode", *args, "--decode-only")
    assert "--decode-only" in out
    row = _table_row(out, "8.3.5169_with_generator")
    assert float(row[1]) > 0
    assert row[5].startswith("ok/")  # the update it recorded was complete and correct
    assert row[4] == full[4]


async def test_decode_only_update_fetches_the_same_and_converts_nothing() -> None:
    (fixture,) = _common.fixture_dirs(["8.3.5169_with_generator"])
    side = Envoy2MqttSide(fixture, decode_only=True)
    await side.setup()
    await side.update()  # a full update, recording what it decodes
    assert side.golden() == "ok"
    calls, inverters = side.fetcher.calls, side._data.inverters
    await side.update()  # timed form: fetch and decode only
    assert side.fetcher.calls - calls == 14  # every endpoint of the full update again
    assert side._data.inverters is inverters  # nothing was converted into the model


def test_decode_rejects_an_unknown_fixture() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.decode", "--fixture=nope", "--no-pyenphase"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode != 0
    assert "unknown fixture(s): nope" in proc.stderr


def test_decode_summary_computes_sum_and_geometric_mean_ratios() -> None:
    results = [
        FixtureResult("a", e2m_us=10.0, pe_us=100.0, e2m_note="ok", pe_note="ok"),
        FixtureResult("b", e2m_us=40.0, pe_us=160.0, e2m_note="ok", pe_note="ok"),
        FixtureResult("c", e2m_us=5.0, pe_us=None, e2m_note="ok", pe_note="EnvoyProbeFailed"),
    ]
    text = render(results)
    # sum: 260 / 50 = 5.2; geomean of 10 and 4 = sqrt(40) = 6.32; "c" is not in either.
    assert "sum ratio=5.20x" in text
    assert f"geomean ratio={math.sqrt(40):.2f}x" in text
    assert "(2 fixtures measured on both sides)" in text
    assert _table_row(text, "c")[3] == "n/a"


def test_common_percentile_and_geomean() -> None:
    values = [float(v) for v in range(1, 101)]
    assert _common.percentile(values, 50) == 50.0
    assert _common.percentile(values, 99) == 99.0
    assert _common.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert math.isnan(_common.geometric_mean([]))


def test_messages_runs_and_change_only_sends_fewer() -> None:
    out = _run(
        "benchmarks.messages",
        "--hours=0.25",
        "--fixture=7.6.185_with_cts_and_battery_3t",
    )
    change = _table_row(out, "7.6.185_with_cts_and_battery_3t")
    assert change[1] == "change-only"
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith("| 7.6.185")
    ]
    totals = {row[1]: int(row[4]) for row in rows}
    assert set(totals) == {"change-only", "every-poll"}
    # Same polls, same payloads: change detection can only remove messages, never add.
    assert 0 < totals["change-only"] < totals["every-poll"]
    assert "hour by hour" in out


def test_fleet_runs_one_envoy_and_measures_the_bridge() -> None:
    out = _run("benchmarks.fleet", "--envoys=1", "--warmup=0", "--window=2", timeout=120)
    row = _table_row(out, "1")
    assert row[1] == "1/1"  # the simulated Envoy came online through the real bridge
    assert float(row[3]) > 0  # RSS of the bridge process was sampled
    assert float(row[2]) >= 0


def test_fleet_splits_over_named_instances() -> None:
    out = _run(
        "benchmarks.fleet", "--envoys=4", "--instances=3", "--warmup=0", "--window=2", timeout=180
    )
    row = _table_row(out, "4")
    assert row[1] == "4/4"  # every Envoy online, each served by one of the instances
    assert row[10] == "3"
    served = [int(part.split(":")[0]) for part in row[13].split()]
    assert len(served) == 3
    assert sum(served) == 4  # shards do not overlap and leave nothing out


def test_footprint_runs_envoy2mqtt_run_and_lists_its_imports() -> None:
    out = _run("benchmarks.footprint", "--duration=0", "--top=3", timeout=150)
    row = _table_row(out, "yes")  # the Envoy came online through the real `envoy2mqtt run`
    assert float(row[2]) > 0  # RSS of that process was read
    assert int(row[4]) > 100  # modules parsed from its -X importtime output
    anonymous, file_backed = float(row[6]), float(row[7])  # /proc/PID/smaps_rollup
    assert anonymous > 0
    assert file_backed > 0
    assert abs(anonymous + file_backed - float(row[2])) < 1.0  # the two parts make the RSS
    assert int(row[8]) >= 1  # threads
    assert "jwt=no" in out  # the optional-package line is printed
    assert "| envoy2mqtt" in out  # and the slowest top-level imports


def test_latency_runs_and_reports_both_paths() -> None:
    out = _run(
        "benchmarks.latency",
        "--polls=2",
        "--commands=2",
        "--broker-nodelay",
        timeout=120,
    )
    poll = _table_row(out, "poll returned -> state received")
    write = _table_row(out, "/set published -> HTTP write at Envoy")
    assert poll[1] == "2"
    assert write[1] == "2"
    assert float(write[2]) > 0
    assert "PUT /admin/lib/tariff" in out  # the command really reached the simulated Envoy
