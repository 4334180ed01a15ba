"""Every captured Envoy, probed and updated twice, exports exactly its ``expected.json``.

The goldens are pyenphase 4.2.0's view of each fixture (GOLDEN URL mapping). The one
deliberate difference, 3.7.0, is asserted separately (see docs/fixtures-differences.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.envoy.export import export_state
from envoy2mqtt.envoy.firmware import parse_info
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.probe import DataCollector
from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore
from tests.plugins.fixture_fetcher import FixtureFetcher, fixture_dirs

BETTER_THAN_GOLDEN = {"3.7.0"}
"""Fixtures where pyenphase fails and we deliberately report data instead."""


def _differences(ours: Any, expected: Any, path: str = "$") -> list[str]:
    """Return one readable line per differing leaf (equal numbers of int/float type agree)."""
    if isinstance(ours, dict) and isinstance(expected, dict):
        lines: list[str] = []
        for key in sorted(set(ours) | set(expected), key=str):
            if key not in ours:
                lines.append(f"{path}.{key}: missing (expected {expected[key]!r:.120})")
            elif key not in expected:
                lines.append(f"{path}.{key}: unexpected {ours[key]!r:.120}")
            else:
                lines += _differences(ours[key], expected[key], f"{path}.{key}")
        return lines
    if isinstance(ours, list) and isinstance(expected, list) and len(ours) == len(expected):
        return [
            line
            for i, (a, b) in enumerate(zip(ours, expected, strict=True))
            for line in _differences(a, b, f"{path}[{i}]")
        ]
    if ours != expected:
        return [f"{path}: ours={ours!r:.120} expected={expected!r:.120}"]
    return []


async def _export(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fetcher = FixtureFetcher(FixtureStore(directory, FixtureMode.GOLDEN))
    info_response = await fetcher.request("GET", "/info")
    info = parse_info(info_response.body)
    collector = DataCollector(info)
    probe = await collector.probe(fetcher)
    data = EnvoyData()
    errors = [await collector.update(fetcher, data) for _ in range(2)]
    return export_state(info, probe, data), [{k: str(v) for k, v in e.items()} for e in errors]


GOLDEN_DIRS = [d for d in fixture_dirs() if d.name not in BETTER_THAN_GOLDEN]


@pytest.mark.parametrize("directory", GOLDEN_DIRS, ids=[d.name for d in GOLDEN_DIRS])
async def test_export_matches_golden(directory: Path) -> None:
    expected = json.loads((directory / "expected.json").read_bytes())
    ours, errors = await _export(directory)
    assert errors == [{}, {}], "no group may fail on a captured Envoy"
    differences = _differences(ours, expected)
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:40])


def test_every_fixture_is_covered() -> None:
    names = {d.name for d in fixture_dirs()}
    assert len(names) >= 30
    assert names >= BETTER_THAN_GOLDEN
    assert {d.name for d in GOLDEN_DIRS} | BETTER_THAN_GOLDEN == names


async def test_3_7_0_reports_production_from_the_legacy_html_page() -> None:
    directory = next(d for d in fixture_dirs() if d.name == "3.7.0")
    golden = json.loads((directory / "expected.json").read_bytes())
    # pyenphase gives up on this Envoy ...
    assert golden["error"]["type"] == "EnvoyProbeFailed"
    ours, errors = await _export(directory)
    assert errors == [{}, {}]
    # ... we read "6.63 kW / 53.6 kWh / 405 kWh / 133 MWh" from the /production HTML page.
    assert ours["data"]["system_production"] == {
        "watts_now": 6630,
        "watt_hours_today": 53600,
        "watt_hours_last_7_days": 405000,
        "watt_hours_lifetime": 133000000,
    }
    assert ours["firmware"] == golden["firmware"] == "3.7.0"
    assert ours["supported_features"] == ["PRODUCTION"]
    assert ours["envoy_model"] == "Envoy"
    assert ours["is_metered"] is False
    assert ours["data"]["inverters"] == {}
    assert ours["data"]["system_consumption"] is None
