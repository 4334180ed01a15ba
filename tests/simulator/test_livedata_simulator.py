"""The simulator's ``/ivp/livedata/status``: defaults, synthesis, stream toggle, CLI switch."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

import aiohttp
import pytest

from envoy2mqtt.cmd import simulate
from envoy2mqtt.envoy.models.raw_livedata import LIVE_STATUS_DECODER
from envoy2mqtt.envoy.updaters.livedata import live_data
from envoy2mqtt.simulator.livedata import DEFAULT_STREAM_SECONDS
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import FakeClock, StartSimulator, sim_session

STATUS, STREAM = "/ivp/livedata/status", "/ivp/livedata/stream"
SPLIT_CTS = "8.3.5169_with_generator"  # Enpower, production + net CTs, split phase
NO_CTS_ENPOWER = "7.3.517"  # Enpower, batteries, no CTs
TOKEN_PLAIN = "7.6.175"  # token firmware, neither Enpower nor CTs
LEGACY = "5.0.62"


async def _call(sim: EnvoySimulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {sim.issue_token()}"}
    async with (
        sim_session(sim) as session,
        session.request(method, f"{sim.url}{path}", json=body, headers=headers) as resp,
    ):
        try:
            return resp.status, await resp.json(content_type=None)
        except (ValueError, aiohttp.ContentTypeError):
            return resp.status, await resp.text()


@pytest.mark.parametrize(
    ("fixture", "served"),
    [(SPLIT_CTS, True), (NO_CTS_ENPOWER, True), (TOKEN_PLAIN, False)],
)
async def test_default_serves_token_firmware_with_enpower_or_cts(
    envoy_simulator: StartSimulator, fixture: str, served: bool
) -> None:
    sim = await envoy_simulator(fixture)
    status, _ = await _call(sim, "GET", STATUS)
    assert (status == 200) is served
    assert status in (200, 404)


async def test_legacy_and_switched_off_envoys_have_none(envoy_simulator: StartSimulator) -> None:
    assert (await envoy_simulator(LEGACY)).livedata is None, "digest firmware has no live data"
    off = await envoy_simulator(SPLIT_CTS, livedata=False)
    assert (await _call(off, "GET", STATUS))[0] == 404
    assert (await _call(off, "POST", STREAM, {"enable": 1}))[0] == 404
    forced = await envoy_simulator(TOKEN_PLAIN, livedata=True)
    assert (await _call(forced, "GET", STATUS))[0] == 200
    golden = await envoy_simulator(SPLIT_CTS, mode="golden")
    assert (await _call(golden, "GET", STATUS))[0] == 404, "golden mode serves the goldens only"
    assert (await envoy_simulator(SPLIT_CTS, mode="golden", livedata=True)).livedata is not None


async def test_values_come_from_the_fixture(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator(SPLIT_CTS)
    _, doc = await _call(sim, "GET", STATUS)
    meters = doc["meters"]
    # production.json: production CT 2882.137 W, net-consumption CT 107.615 W, total 2989.751 W.
    assert meters["pv"]["agg_p_mw"] == 2_882_137
    assert meters["grid"]["agg_p_mw"] == 107_615
    assert meters["load"]["agg_p_mw"] == 2_989_751
    assert meters["storage"]["agg_p_mw"] == 0
    assert meters["phase_count"] == 2
    assert meters["is_split_phase"] == 1
    assert meters["pv"]["agg_p_ph_a_mw"] + meters["pv"]["agg_p_ph_b_mw"] == pytest.approx(
        2_882_137, abs=1
    )
    assert meters["pv"]["agg_p_ph_c_mw"] == 0
    # The client decodes it.
    live = live_data(LIVE_STATUS_DECODER.decode(json.dumps(doc).encode()))
    assert (live.pv_power, live.grid_power, live.load_power) == (2882, 108, 2990)


async def test_battery_system_without_cts(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator(NO_CTS_ENPOWER)
    _, doc = await _call(sim, "GET", STATUS)
    meters = doc["meters"]
    assert meters["soc"] == 100
    assert meters["enc_agg_soc"] == 100
    assert meters["phase_count"] == 1
    # 7.3.517 production.json: 4556.139 W produced, -765.064 W net (export).
    assert meters["pv"]["agg_p_mw"] == 4_556_139
    assert meters["grid"]["agg_p_mw"] == -765_064


async def test_stream_toggle_controls_refresh(envoy_simulator: StartSimulator) -> None:
    clock = FakeClock()
    sim = await envoy_simulator(SPLIT_CTS, clock=clock, livedata_stream_seconds=60)
    assert sim.livedata is not None
    _, first = await _call(sim, "GET", STATUS)
    assert first["connection"]["sc_stream"] == "disabled"
    clock.now += 10
    _, stale = await _call(sim, "GET", STATUS)
    assert stale["meters"]["last_update"] == first["meters"]["last_update"], "frozen"

    status, reply = await _call(sim, "POST", STREAM, {"enable": 1})
    assert (status, reply) == (200, {"sc_stream": "enabled"})
    _, fresh = await _call(sim, "GET", STATUS)
    assert fresh["connection"]["sc_stream"] == "enabled"
    assert fresh["meters"]["last_update"] == int(clock.now)

    clock.now += 59
    _, last = await _call(sim, "GET", STATUS)
    assert last["meters"]["last_update"] == int(clock.now)
    clock.now += 1  # the stream lapses on its own
    _, lapsed = await _call(sim, "GET", STATUS)
    assert lapsed["connection"]["sc_stream"] == "disabled"
    clock.now += 5
    _, later = await _call(sim, "GET", STATUS)
    assert later["meters"] == last["meters"], "values freeze once the stream lapses"

    await _call(sim, "POST", STREAM, {"enable": 1})
    status_doc = (await _call(sim, "GET", "/__sim__/status"))[1]
    assert status_doc["livedata"] == {"streaming": True, "stream_requests": 2}
    assert (await _call(sim, "POST", STREAM, {"enable": 0}))[1] == {"sc_stream": "disabled"}
    assert not sim.livedata.streaming
    writes = [(w.method, w.path, w.body, w.status) for w in sim.requests.writes()]
    assert writes == [
        ("POST", STREAM, {"enable": 1}, 200),
        ("POST", STREAM, {"enable": 1}, 200),
        ("POST", STREAM, {"enable": 0}, 200),
    ]


@pytest.mark.parametrize("body", [{}, {"enable": 2}, {"enable": True}, [1], "on"])
async def test_bad_stream_requests_change_nothing(
    envoy_simulator: StartSimulator, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await envoy_simulator(SPLIT_CTS)
    assert sim.livedata is not None
    with caplog.at_level(logging.INFO, logger="envoy2mqtt.simulator.handler"):
        status, reply = await _call(sim, "POST", STREAM, body)
    assert status == 400
    assert "enable" in reply["error"]
    assert not sim.livedata.streaming
    assert sim.livedata.stream_requests == 0
    assert "sim write rejected path=/ivp/livedata/stream" in caplog.text


async def test_stream_write_is_logged(
    envoy_simulator: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await envoy_simulator(SPLIT_CTS)
    with caplog.at_level(logging.INFO, logger="envoy2mqtt.simulator"):
        await _call(sim, "POST", STREAM, {"enable": 1})
    assert "sim write applied method=POST path=/ivp/livedata/stream" in caplog.text


async def test_live_mode_moves_the_values(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator(SPLIT_CTS, live_seed=7)
    await _call(sim, "POST", STREAM, {"enable": 1})
    seen = {(await _call(sim, "GET", STATUS))[1]["meters"]["pv"]["agg_p_mw"] for _ in range(4)}
    assert len(seen) > 1


async def test_reboot_stops_the_stream(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator(SPLIT_CTS)
    await _call(sim, "POST", STREAM, {"enable": 1})
    assert sim.livedata is not None
    assert sim.livedata.streaming
    await sim.reboot()
    assert not sim.livedata.streaming


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    simulate.configure(parser)
    return parser.parse_args(["--fixture", "x", *argv])


def test_cli_switches() -> None:
    assert _args().livedata is None
    assert _args("--no-livedata").livedata is False
    assert _args("--livedata").livedata is True
    assert _args().livedata_stream_seconds == DEFAULT_STREAM_SECONDS
    assert _args("--livedata-stream-seconds", "30").livedata_stream_seconds == 30


def test_cli_rejects_a_non_positive_stream_time(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "info").write_text("<envoy_info/>")
    args = _args("--livedata-stream-seconds", "0")
    args.fixture = tmp_path
    assert simulate.run(args) == 2
    assert "--livedata-stream-seconds must be positive" in capsys.readouterr().err
