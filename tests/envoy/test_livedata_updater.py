"""The ``livedata`` group: probe rule, decoding, failure isolation and stream keep-alive."""

from __future__ import annotations

import json
import logging
from typing import Any

import msgspec
import pytest
from awesomeversion import AwesomeVersion

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyCommunicationError, EnvoyMalformedResponse
from envoy2mqtt.envoy.export import export_state
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.envoy.firmware import parse_info
from envoy2mqtt.envoy.models.data import EnvoyData, LiveData, LivePhase
from envoy2mqtt.envoy.probe import DataCollector, ProbeResult
from envoy2mqtt.envoy.updaters.base import ProbeState, Reader
from envoy2mqtt.envoy.updaters.livedata import (
    STREAM_LIFETIME_SECONDS,
    STREAM_RETRY_SECONDS,
    LiveDataUpdater,
)
from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore
from tests.livedata_helpers import status_body
from tests.plugins.fixture_fetcher import FIXTURES_DIR, FixtureFetcher

TOKEN_FIXTURE = "8.3.5169_with_generator"
LEGACY_FIXTURE = "5.0.62"
STATUS, STREAM = endpoints.LIVEDATA_STATUS, endpoints.LIVEDATA_STREAM


class RecordingFetcher(FixtureFetcher):
    """A fixture fetcher that also records (method, path, body) of every request."""

    def __init__(self, name: str) -> None:
        super().__init__(FixtureStore(FIXTURES_DIR / name, FixtureMode.GOLDEN))
        self.calls: list[tuple[str, str, bytes | None]] = []

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        self.calls.append((method, path, body))
        return await super().request(method, path, body=body)

    def posts(self) -> list[bytes | None]:
        return [body for method, path, body in self.calls if method == "POST" and path == STREAM]


def _encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


async def _probed(
    fetcher: RecordingFetcher, body: bytes | Response | Exception | None = None
) -> tuple[DataCollector, ProbeResult]:
    if body is not None:
        fetcher.override(STATUS, body)
    collector = DataCollector(parse_info((await fetcher.request("GET", "/info")).body))
    return collector, await collector.probe(fetcher)


# -- decoding -----------------------------------------------------------------------------


async def test_full_body_is_normalised_to_watts() -> None:
    fetcher = RecordingFetcher(TOKEN_FIXTURE)
    collector, _probe = await _probed(fetcher, _encode(status_body()))
    data = EnvoyData()
    assert await collector.update(fetcher, data, ["livedata"]) == {}
    live = data.livedata
    assert live is not None
    assert (live.pv_power, live.grid_power, live.load_power) == (4200, -701, 2500)
    assert (live.storage_power, live.generator_power) == (-1000, 0)
    assert (live.soc, live.backup_soc, live.last_update) == (87, 20, 1_700_000_000)
    assert live.stream_enabled is True
    assert live.is_split_phase is True
    assert live.enc_agg_energy == 8700
    assert live.main_relay_state == 1
    # phase_count 2: phase C is not reported even though the body has its keys.
    assert live.phases == {
        "L1": LivePhase(
            pv_power=2100, grid_power=-350, load_power=1250, storage_power=-500, generator_power=0
        ),
        "L2": LivePhase(
            pv_power=2100, grid_power=-351, load_power=1250, storage_power=-500, generator_power=0
        ),
    }


async def test_three_phases_when_the_envoy_says_three() -> None:
    fetcher = RecordingFetcher(TOKEN_FIXTURE)
    collector, _ = await _probed(fetcher, _encode(status_body(phase_count=3)))
    data = EnvoyData()
    await collector.update(fetcher, data, ["livedata"])
    assert data.livedata is not None
    assert sorted(data.livedata.phases) == ["L1", "L2", "L3"]


@pytest.mark.parametrize(
    ("meters", "expected"),
    [
        ({}, LiveData()),
        ({"pv": {"agg_p_mw": 5499}}, LiveData(pv_power=5)),
        ({"grid": {}, "soc": 50.5}, LiveData(soc=50.5)),
        # One phase key only: a single phase is no phase breakdown.
        ({"load": {"agg_p_ph_a_mw": 1000}}, LiveData()),
        (
            {"phase_count": 1, "pv": {"agg_p_ph_a_mw": 1, "agg_p_ph_b_mw": 2}},
            LiveData(phase_count=1),
        ),
    ],
)
async def test_missing_keys_stay_absent(meters: dict[str, Any], expected: LiveData) -> None:
    fetcher = RecordingFetcher(TOKEN_FIXTURE)
    collector, _ = await _probed(fetcher, _encode({"meters": meters}))
    data = EnvoyData()
    assert await collector.update(fetcher, data, ["livedata"]) == {}
    assert data.livedata == expected


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json",
        b"[1, 2]",
        b'{"connection": {"sc_stream": "enabled"}}',
        b'{"meters": "lots"}',
        b'{"meters": {"pv": {"agg_p_mw": "lots"}}}',
        b'{"meters": {"soc": [1]}}',
    ],
)
async def test_garbage_fails_only_the_livedata_group(garbage: bytes) -> None:
    fetcher = RecordingFetcher(TOKEN_FIXTURE)
    collector, probe = await _probed(fetcher, _encode(status_body()))
    data = EnvoyData()
    assert await collector.update(fetcher, data) == {}
    good = msgspec.to_builtins(data)
    fetcher.override(STATUS, garbage)
    errors = await collector.update(fetcher, data)
    assert set(errors) == {"livedata"}
    assert isinstance(errors["livedata"], EnvoyMalformedResponse)
    assert msgspec.to_builtins(data) == good, "a failed group keeps its previous values"
    assert "livedata" in probe.groups


# -- probe rule -----------------------------------------------------------------------------


async def test_probe_activates_the_group_without_a_feature_flag() -> None:
    plain = RecordingFetcher(TOKEN_FIXTURE)
    _, without = await _probed(plain)
    assert "livedata" not in without.groups, "the fixture has no capture: 404"
    live = RecordingFetcher(TOKEN_FIXTURE)
    collector, with_live = await _probed(live, _encode(status_body()))
    assert with_live.groups[:2] == ("meters", "livedata")
    assert with_live.features == without.features
    data = EnvoyData()
    await collector.update(live, data)
    assert data.livedata is not None
    exported = export_state(collector.info, with_live, data)
    assert "livedata" not in exported["data"]
    assert exported["supported_features"] == without.features.names()


@pytest.mark.parametrize(
    "answer",
    [
        Response(status=401, body=b""),
        Response(status=404, body=b""),
        Response(status=200, body=b'{"connection": {}}'),
        Response(status=200, body=b"<html>"),
    ],
)
async def test_probe_skips_absent_or_odd_endpoints(answer: Response) -> None:
    _, probe = await _probed(RecordingFetcher(TOKEN_FIXTURE), answer)
    assert "livedata" not in probe.groups


async def test_legacy_firmware_is_never_asked() -> None:
    fetcher = RecordingFetcher(LEGACY_FIXTURE)
    _, probe = await _probed(fetcher, _encode(status_body()))
    assert "livedata" not in probe.groups
    assert all(path != STATUS for _, path, _ in fetcher.calls)


# -- stream keep-alive ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _updater(stream: str | None) -> tuple[LiveDataUpdater, RecordingFetcher, Clock]:
    fetcher = RecordingFetcher(TOKEN_FIXTURE)
    body = status_body()
    if stream is None:
        del body["connection"]
    else:
        body["connection"]["sc_stream"] = stream
    fetcher.override(STATUS, _encode(body))
    updater = LiveDataUpdater(ProbeState(version=AwesomeVersion("8.3.5169"), imeter=True))
    clock = Clock()
    updater.clock = clock
    return updater, fetcher, clock


def _set_stream(fetcher: RecordingFetcher, stream: str) -> None:
    body = status_body(stream=stream)
    fetcher.override(STATUS, _encode(body))


async def test_enabled_stream_is_left_alone() -> None:
    updater, fetcher, _ = await _updater("enabled")
    for _ in range(3):
        await updater.update(Reader(fetcher), EnvoyData())
    assert fetcher.posts() == []
    assert updater.stream_enabled_at is None


async def test_disabled_stream_is_enabled_once() -> None:
    updater, fetcher, clock = await _updater("disabled")
    fetcher.override(STREAM, Response(status=200, body=b'{"sc_stream": "enabled"}'))
    out = EnvoyData()
    await updater.update(Reader(fetcher), out)
    assert fetcher.posts() == [b'{"enable":1}']
    assert json.loads(fetcher.posts()[0] or b"") == {"enable": 1}
    assert updater.stream_enabled_at == clock.now
    assert out.livedata is not None
    assert out.livedata.stream_enabled is False
    # The Envoy has not caught up yet: no second request within the retry interval.
    clock.now += STREAM_RETRY_SECONDS - 1
    await updater.update(Reader(fetcher), EnvoyData())
    assert len(fetcher.posts()) == 1
    _set_stream(fetcher, "enabled")
    clock.now += 600
    await updater.update(Reader(fetcher), EnvoyData())
    assert len(fetcher.posts()) == 1
    # ~15 minutes later the Envoy stopped streaming: enabled again, once.
    _set_stream(fetcher, "disabled")
    clock.now += 300
    await updater.update(Reader(fetcher), EnvoyData())
    await updater.update(Reader(fetcher), EnvoyData())
    assert len(fetcher.posts()) == 2
    assert updater.stream_enabled_at == clock.now


@pytest.mark.parametrize(
    "failure",
    [EnvoyCommunicationError("refused"), Response(status=500, body=b""), Response(401, b"")],
)
async def test_failing_enable_does_not_fail_the_group(
    failure: Exception | Response, caplog: pytest.LogCaptureFixture
) -> None:
    updater, fetcher, clock = await _updater("disabled")
    fetcher.override(STREAM, failure)
    out = EnvoyData()
    with caplog.at_level(logging.WARNING, logger="envoy2mqtt.envoy.updaters.livedata"):
        await updater.update(Reader(fetcher), out)
    assert out.livedata is not None
    assert out.livedata.pv_power == 4200
    assert updater.stream_enabled_at is None
    assert "livedata stream enable failed" in caplog.text
    clock.now += STREAM_RETRY_SECONDS
    fetcher.override(STREAM, Response(status=200, body=b"{}"))
    await updater.update(Reader(fetcher), out)
    assert len(fetcher.posts()) == 2
    assert updater.stream_enabled_at == clock.now


async def test_unknown_stream_state_is_renewed_before_it_lapses() -> None:
    updater, fetcher, clock = await _updater(None)
    fetcher.override(STREAM, Response(status=200, body=b"{}"))
    await updater.update(Reader(fetcher), EnvoyData())
    clock.now += STREAM_LIFETIME_SECONDS - 1
    await updater.update(Reader(fetcher), EnvoyData())
    assert len(fetcher.posts()) == 1
    clock.now += 1
    await updater.update(Reader(fetcher), EnvoyData())
    assert len(fetcher.posts()) == 2


async def test_collector_keeps_streaming_through_updates() -> None:
    fetcher = RecordingFetcher(TOKEN_FIXTURE)
    collector, _ = await _probed(fetcher, _encode(status_body(stream="disabled")))
    fetcher.override(STREAM, Response(status=200, body=b"{}"))
    data = EnvoyData()
    assert await collector.update(fetcher, data, ["livedata"]) == {}
    assert await collector.update(fetcher, data, ["livedata"]) == {}
    assert fetcher.posts() == [b'{"enable":1}'], "probing never writes; one enable per lapse"


async def test_unknown_stream_state_and_a_failing_enable_is_not_hammered() -> None:
    updater, fetcher, clock = await _updater(None)
    fetcher.override(STREAM, Response(status=500, body=b""))
    for _ in range(5):
        await updater.update(Reader(fetcher), EnvoyData())
        clock.now += 5
    assert len(fetcher.posts()) == 1
    clock.now += STREAM_RETRY_SECONDS
    await updater.update(Reader(fetcher), EnvoyData())
    assert len(fetcher.posts()) == 2
