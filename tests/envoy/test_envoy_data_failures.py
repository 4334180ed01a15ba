"""Per-group failure isolation, probe-time 401 handling, malformed bodies, request caching."""

from __future__ import annotations

import copy
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyHTTPStatusError,
    EnvoyMalformedResponse,
    EnvoyProbeFailed,
)
from envoy2mqtt.envoy.features import SupportedFeatures as F
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.envoy.firmware import EnvoyInfo, parse_info
from envoy2mqtt.envoy.groups import group_fields
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.probe import DataCollector, ProbeResult
from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore
from tests.plugins.fixture_fetcher import FIXTURES_DIR, FixtureFetcher, fixture_dirs

GENERATOR = "8.3.5169_with_generator"  # every group except acb_inventory
ACB_INVENTORY = "8.3.5169_ACB_inventory"


def _fetcher(name: str) -> FixtureFetcher:
    return FixtureFetcher(FixtureStore(FIXTURES_DIR / name, FixtureMode.GOLDEN))


async def _probed(name: str) -> tuple[FixtureFetcher, DataCollector, ProbeResult]:
    fetcher = _fetcher(name)
    collector = DataCollector(parse_info((await fetcher.request("GET", "/info")).body))
    return fetcher, collector, await collector.probe(fetcher)


def _info(fetcher: FixtureFetcher) -> EnvoyInfo:
    stored = fetcher.store.lookup("/info")
    assert stored is not None
    return parse_info(stored.body)


def _json(name: str, path: str) -> Any:
    stored = FixtureStore(FIXTURES_DIR / name, FixtureMode.GOLDEN).lookup(path)
    assert stored is not None
    return json.loads(stored.body)


def _fields(data: EnvoyData, group: str) -> dict[str, Any]:
    return {name: msgspec.to_builtins(getattr(data, name)) for name in group_fields(group)}


# One endpoint per group whose corruption must fail exactly that group.
GROUP_PATHS = [
    ("meters", endpoints.METERS_READINGS, GENERATOR),
    ("production", endpoints.PRODUCTION_JSON, GENERATOR),
    ("inverters", endpoints.DEVICE_DATA, GENERATOR),
    ("ensemble", endpoints.ENSEMBLE_INVENTORY, GENERATOR),
    ("dry_contacts", endpoints.DRY_CONTACT_SETTINGS, GENERATOR),
    ("generator", endpoints.GEN_CONFIG, GENERATOR),
    ("tariff", endpoints.TARIFF, GENERATOR),
    ("acb_inventory", endpoints.INVENTORY, ACB_INVENTORY),
]

BAD_BODIES = {
    "garbage": lambda original: b"<html><body>Service Unavailable</body></html>",
    "truncated": lambda original: original[: len(original) // 2],
    "wrong-type": lambda original: b'"a string instead of a document"',
    "empty": lambda original: b"",
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize(
    ("group", "path", "fixture"), GROUP_PATHS, ids=[g for g, _, _ in GROUP_PATHS]
)
async def test_bad_body_fails_only_its_group_and_keeps_previous_values(
    group: str, path: str, fixture: str, kind: str
) -> None:
    fetcher, collector, probe = await _probed(fixture)
    assert group in probe.groups
    data = EnvoyData()
    assert await collector.update(fetcher, data) == {}
    before = msgspec.to_builtins(data)
    original = fetcher.store.lookup(path)
    assert original is not None

    fetcher.override(path, BAD_BODIES[kind](original.body))
    errors = await collector.update(fetcher, data)

    assert set(errors) == {group}
    assert isinstance(errors[group], EnvoyMalformedResponse)
    assert errors[group].path == path
    assert msgspec.to_builtins(data) == before, "no field may change after a failed group"


async def test_other_groups_still_update_while_one_fails() -> None:
    fetcher, collector, _ = await _probed(GENERATOR)
    data = EnvoyData()
    await collector.update(fetcher, data)
    meters_before = _fields(data, "meters")
    production = _json(GENERATOR, endpoints.PRODUCTION_JSON)
    production["production"][1]["wNow"] = 4321.4
    fetcher.override(endpoints.PRODUCTION_JSON, json.dumps(production).encode())
    fetcher.override(endpoints.METERS_READINGS, b"[{")

    errors = await collector.update(fetcher, data)

    assert set(errors) == {"meters"}
    assert data.system_production is not None
    assert data.system_production.watts_now == 4321
    assert _fields(data, "meters") == meters_before
    # Once the endpoint recovers, the group updates again.
    del fetcher.overrides[endpoints.METERS_READINGS]
    assert await collector.update(fetcher, data) == {}


async def test_wrong_type_inside_a_document_is_malformed_not_a_crash() -> None:
    fetcher, collector, _ = await _probed(GENERATOR)
    readings = _json(GENERATOR, endpoints.METERS_READINGS)
    readings[0]["activePower"] = "lots"
    fetcher.override(endpoints.METERS_READINGS, json.dumps(readings).encode())
    data = EnvoyData()
    errors = await collector.update(fetcher, data)
    assert set(errors) == {"meters"}
    assert "activePower" in str(errors["meters"])
    assert data.ctmeters == {}


async def test_missing_required_value_is_malformed() -> None:
    fetcher, collector, _ = await _probed(GENERATOR)
    production = _json(GENERATOR, endpoints.PRODUCTION_JSON)
    del production["consumption"][1]
    fetcher.override(endpoints.PRODUCTION_JSON, json.dumps(production).encode())
    errors = await collector.update(fetcher, EnvoyData())
    assert set(errors) == {"production"}
    assert "consumption[1]" in str(errors["production"])


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, EnvoyHTTPStatusError), (404, EnvoyHTTPStatusError), (401, EnvoyAuthenticationRequired)],
)
async def test_http_errors_during_update_are_per_group(status: int, error: type) -> None:
    fetcher, collector, _ = await _probed(GENERATOR)
    data = EnvoyData()
    await collector.update(fetcher, data)
    before = _fields(data, "tariff")
    fetcher.override(endpoints.TARIFF, Response(status=status, body=b"nope"))
    errors = await collector.update(fetcher, data)
    assert set(errors) == {"tariff"}
    assert type(errors["tariff"]) is error
    assert _fields(data, "tariff") == before


async def test_groups_argument_limits_requests_and_rejects_unknown_names() -> None:
    fetcher, collector, _ = await _probed(GENERATOR)
    fetcher.requests.clear()
    data = EnvoyData()
    assert await collector.update(fetcher, data, groups=["tariff"]) == {}
    assert fetcher.requests == [endpoints.TARIFF]
    assert data.tariff is not None
    assert data.system_production is None
    with pytest.raises(ValueError, match="bogus"):
        await collector.update(fetcher, data, groups=["tariff", "bogus"])


async def test_update_before_probe_is_refused() -> None:
    fetcher = _fetcher(GENERATOR)
    collector = DataCollector(parse_info((await fetcher.request("GET", "/info")).body))
    with pytest.raises(RuntimeError):
        await collector.update(fetcher, EnvoyData())


@pytest.mark.parametrize("directory", fixture_dirs(), ids=lambda d: d.name)
async def test_each_endpoint_is_fetched_once_per_update(directory: Path) -> None:
    fetcher, collector, _ = await _probed(directory.name)
    fetcher.requests.clear()
    await collector.update(fetcher, EnvoyData())
    repeated = {path: n for path, n in Counter(fetcher.requests).items() if n > 1}
    assert not repeated


# ----------------------------------------------------------------------------- probe rules


@pytest.mark.parametrize(
    ("fixture", "path", "lost", "kept"),
    [
        (GENERATOR, endpoints.METERS, F.CTMETERS | F.DUALPHASE, F.PRODUCTION),
        (GENERATOR, endpoints.DEVICE_DATA, F.DETAILED_INVERTERS, F.INVERTERS),
        (GENERATOR, endpoints.ENSEMBLE_INVENTORY, F.ENCHARGE | F.ENPOWER | F.GENERATOR, F.TARIFF),
        (GENERATOR, endpoints.TARIFF, F.TARIFF, F.PRODUCTION),
        ("3.17.3", endpoints.INVERTERS_V1, F.INVERTERS, F.PRODUCTION),
        (ACB_INVENTORY, endpoints.INVENTORY, F(0), F.ACB),
        # Production is then read from /production instead.
        (GENERATOR, endpoints.PRODUCTION_JSON, F(0), F.PRODUCTION | F.METERING),
    ],
    ids=["meters", "device_data", "ensemble", "tariff", "v1-inverters", "inventory", "prod-json"],
)
async def test_probe_swallows_401_on_quirky_endpoints(
    fixture: str, path: str, lost: F, kept: F
) -> None:
    fetcher = _fetcher(fixture)
    full = await DataCollector(parse_info(fetcher.store.lookup("/info").body)).probe(fetcher)  # type: ignore[union-attr]
    assert lost in full.features
    fetcher.override(path, Response(status=401, body=b""))
    collector = DataCollector(parse_info(fetcher.store.lookup("/info").body))  # type: ignore[union-attr]
    result = await collector.probe(fetcher)
    assert not result.features & lost
    assert kept in result.features
    assert await collector.update(fetcher, EnvoyData(), groups=None) == {}


async def test_probe_swallows_401_on_inventory_and_drops_the_group() -> None:
    fetcher = _fetcher(ACB_INVENTORY)
    assert "acb_inventory" in (await DataCollector(_info(fetcher)).probe(fetcher)).groups
    fetcher.override(endpoints.INVENTORY, Response(status=401, body=b""))
    result = await DataCollector(_info(fetcher)).probe(fetcher)
    assert "acb_inventory" not in result.groups
    assert F.ACB in result.features  # still reported by the production document


@pytest.mark.parametrize(
    ("fixture", "path"),
    [("3.17.3", endpoints.PRODUCTION_V1), (GENERATOR, endpoints.GEN_CONFIG)],
)
async def test_probe_does_not_swallow_401_elsewhere(fixture: str, path: str) -> None:
    fetcher = _fetcher(fixture)
    fetcher.override(path, Response(status=401, body=b""))
    collector = DataCollector(parse_info(fetcher.store.lookup("/info").body))  # type: ignore[union-attr]
    with pytest.raises(EnvoyAuthenticationRequired):
        await collector.probe(fetcher)


async def test_probe_fails_without_any_production_source() -> None:
    fetcher = _fetcher("3.17.3")
    for path in (endpoints.PRODUCTION_V1, endpoints.PRODUCTION):
        fetcher.override(path, Response(status=404, body=b""))
    collector = DataCollector(parse_info(fetcher.store.lookup("/info").body))  # type: ignore[union-attr]
    with pytest.raises(EnvoyProbeFailed):
        await collector.probe(fetcher)


async def test_truncated_device_data_falls_back_to_v1_inverters() -> None:
    fetcher = _fetcher(GENERATOR)
    doc = _json(GENERATOR, endpoints.DEVICE_DATA)
    doc["deviceCount"] = doc["deviceDataLimit"]
    fetcher.override(endpoints.DEVICE_DATA, json.dumps(doc).encode())
    collector = DataCollector(parse_info(fetcher.store.lookup("/info").body))  # type: ignore[union-attr]
    result = await collector.probe(fetcher)
    assert F.INVERTERS in result.features
    assert F.DETAILED_INVERTERS not in result.features
    data = EnvoyData()
    assert await collector.update(fetcher, data) == {}
    v1 = _json(GENERATOR, endpoints.INVERTERS_V1)
    assert set(data.inverters) == {item["serialNumber"] for item in v1}
    assert all(inv.dc_voltage is None for inv in data.inverters.values())


async def test_fw3_all_zero_production_is_rejected_and_previous_value_kept() -> None:
    fetcher, collector, _ = await _probed("3.17.3")
    data = EnvoyData()
    await collector.update(fetcher, data)
    assert data.system_production is not None
    good = msgspec.to_builtins(data.system_production)
    zeros = {"wattHoursToday": 0, "wattHoursSevenDays": 0, "wattHoursLifetime": 0, "wattsNow": 0}
    fetcher.override(endpoints.PRODUCTION_V1, json.dumps(zeros).encode())
    errors = await collector.update(fetcher, data)
    assert set(errors) == {"production"}
    assert "all zero" in str(errors["production"])
    assert msgspec.to_builtins(data.system_production) == good


async def test_storage_ct_zero_channel_anomaly_on_new_firmware() -> None:
    name = "8.2.127_with_3cts_and_battery_split"
    fetcher = _fetcher(name)
    storage_eid = next(
        m["eid"] for m in _json(name, endpoints.METERS) if m["measurementType"] == "storage"
    )
    readings = _json(name, endpoints.METERS_READINGS)
    storage = next(r for r in readings if r["eid"] == storage_eid)
    l1, l2 = storage["channels"][0], storage["channels"][1]
    l1["actEnergyDlvd"] = l1["actEnergyRcvd"] = 0
    l2["actEnergyDlvd"], l2["actEnergyRcvd"] = 1000.0, 2000.0
    storage["actEnergyDlvd"], storage["actEnergyRcvd"] = 1000.0, 2000.0
    fetcher.override(endpoints.METERS_READINGS, json.dumps(readings).encode())
    info = _info(fetcher)

    old = DataCollector(info)
    await old.probe(fetcher)
    old_data = EnvoyData()
    await old.update(fetcher, old_data)
    assert old_data.ctmeters["storage"] is not None  # 8.2.127: rule not applied

    new = DataCollector(msgspec.structs.replace(info, firmware="8.3.6001"))
    await new.probe(fetcher)
    data = EnvoyData()
    assert await new.update(fetcher, data) == {}
    assert data.ctmeters["storage"] is None
    assert data.ctmeter_storage is None
    assert data.ctmeters_phases["storage"]["L1"] is None
    assert data.ctmeters_phases["storage"]["L2"] is not None
    assert copy.copy(data.ctmeter_storage_phases) == data.ctmeters_phases["storage"]


async def test_a_persistent_failure_warns_once_and_recovery_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetcher, collector, _ = await _probed(GENERATOR)
    fetcher.override(endpoints.TARIFF, b"{")
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.probe")
    for _ in range(3):
        await collector.update(fetcher, EnvoyData(), groups=["tariff"])
    failures = [r for r in caplog.records if "group=tariff error=" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    del fetcher.overrides[endpoints.TARIFF]
    await collector.update(fetcher, EnvoyData(), groups=["tariff"])
    assert any("group=tariff recovered=true" in r.getMessage() for r in caplog.records)


async def test_total_consumption_is_rebuilt_from_net_plus_production_on_8_3_5433() -> None:
    name = "8.3.5433_tot_is_net_cons"
    fetcher, collector, _ = await _probed(name)
    data = EnvoyData()
    assert await collector.update(fetcher, data) == {}
    doc = _json(name, endpoints.PRODUCTION_JSON)
    eim = next(e for e in doc["production"] if e["type"] == "eim")
    net = doc["consumption"][1]
    assert data.system_consumption is not None
    assert data.system_net_consumption is not None
    assert data.system_consumption.watts_now == round(net["wNow"]) + round(eim["wNow"])
    assert data.system_consumption.watt_hours_lifetime == round(net["whLifetime"]) + round(
        eim["whLifetime"]
    )
    assert data.system_net_consumption.watts_now == round(net["wNow"])


async def test_unrepairable_total_consumption_is_withheld() -> None:
    name = "8.3.5433_tot_is_net_cons"
    fetcher, collector, _ = await _probed(name)
    doc = _json(name, endpoints.PRODUCTION_JSON)
    # The production CT's entry intermittently reads activeCount 0 (bogus): no production.
    next(e for e in doc["production"] if e["type"] == "eim")["activeCount"] = 0
    fetcher.override(endpoints.PRODUCTION_JSON, json.dumps(doc).encode())
    data = EnvoyData()
    assert await collector.update(fetcher, data) == {}
    assert data.system_production is None
    assert data.system_consumption is None
    assert data.system_consumption_phases is None
    assert data.system_net_consumption is not None


async def test_acb_inverters_are_listed_with_the_microinverters() -> None:
    name = "8.2.4382_ACB"
    fetcher, collector, probe = await _probed(name)
    assert F.ACB in probe.features
    assert probe.acb_count > 0
    data = EnvoyData()
    await collector.update(fetcher, data)
    acb_serials = {
        d["serialNumber"] for d in _json(name, endpoints.INVERTERS_V1) if d["devType"] == 11
    }
    assert acb_serials
    assert acb_serials <= set(data.inverters)
    assert data.acb_power is not None
    assert data.acb_power.batteries == probe.acb_count
