"""The shipped Node-RED example flow, run by a real Node-RED against the real bridge.

examples/node-red/flows.json is loaded as shipped; only its broker node's host and port are
pointed at the test's mosquitto. What the flow outputs is read where a user sees it: the
debug sidebar, over Node-RED's editor websocket (``/comms``). The command is sent the way a
user sends it: the inject node's button (``POST /inject/<id>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.node_red import NodeRed
from tests.plugins.simulator import StartSimulator
from tests.reliability_helpers import command_writes

FLOWS = Path(__file__).resolve().parents[2] / "examples" / "node-red" / "flows.json"
FIXTURE = "7.3.517"  # production, IQ Batteries with storage settings
BROKER_ID = "e2m-broker"
INJECT_ID = "e2m-set-reserve"
NUMBERS_DEBUG, RESULT_DEBUG = "e2m-numbers-debug", "e2m-result-debug"


def example_flow(mqtt_port: int) -> list[dict[str, Any]]:
    """The shipped flow with its broker node pointed at 127.0.0.1:``mqtt_port``."""
    flows: list[dict[str, Any]] = json.loads(FLOWS.read_text())
    brokers = [node for node in flows if node["type"] == "mqtt-broker"]
    assert [b["id"] for b in brokers] == [BROKER_ID]
    assert (brokers[0]["broker"], brokers[0]["port"]) == ("localhost", "1883")  # as documented
    brokers[0].update(broker="127.0.0.1", port=str(mqtt_port))
    return flows


class Sidebar:
    """What Node-RED's debug sidebar and node status show, collected from ``/comms``."""

    def __init__(self) -> None:
        self.debug: list[dict[str, Any]] = []
        self.status: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Condition()

    async def run(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            async with self._changed:
                for event in json.loads(frame.data):
                    topic, data = event.get("topic", ""), event.get("data")
                    if topic == "debug":
                        self.debug.append(data)
                    elif topic.startswith("status/"):
                        self.status[topic.removeprefix("status/")] = data or {}
                self._changed.notify_all()

    async def wait(self, predicate: Callable[[], bool], limit: float = 30) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), limit)
            except TimeoutError:
                problems = [d for d in self.debug if d.get("level")]  # node.warn / errors
                msg = (
                    f"not seen within {limit}s; status: {self.status}; "
                    f"last debug: {self.debug[-5:]}; warnings/errors: {problems}"
                )
                raise AssertionError(msg) from None

    def numbers(self, name: str) -> list[float]:
        """Every value the *numbers* debug node showed for ``name``, in order."""
        return [
            json.loads(d["msg"])
            for d in self.debug
            if d.get("id") == NUMBERS_DEBUG and d.get("topic") == name
        ]

    def results(self) -> list[dict[str, Any]]:
        """Every payload the *command result* debug node showed."""
        return [json.loads(d["msg"]) for d in self.debug if d.get("id") == RESULT_DEBUG]


@contextlib.asynccontextmanager
async def sidebar_of(red: NodeRed) -> AsyncIterator[tuple[Sidebar, aiohttp.ClientSession]]:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"ws://127.0.0.1:{red.port}/comms") as ws,
    ):
        for topic in ("debug", "status/#"):
            await ws.send_json({"subscribe": topic})
        sidebar = Sidebar()
        reader = asyncio.create_task(sidebar.run(ws))
        try:
            yield sidebar, http
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader


def _set_production(sim: EnvoySimulator, watts: int) -> None:
    """The simulated Envoy reports ``watts`` of production from now on (in every endpoint)."""
    sim.state.doc("api_v1_production")["wattsNow"] = watts
    for slug in ("production", "production.json"):  # /production is what firmware 7 reads
        for reading in sim.state.doc(slug)["production"]:
            reading["wNow"] = watts


@pytest.mark.timeout(720)  # the first run installs Node-RED from npm (about 20-60 s)
async def test_node_red_example_flow_shows_state_changes_and_command_results(
    node_red_js: Path,
    mosquitto: Mosquitto,
    envoy_simulator: StartSimulator,
    tmp_path: Path,
) -> None:
    sim = await envoy_simulator(FIXTURE)
    flows = example_flow(mosquitto.port)
    mqtt_in = [n["id"] for n in flows if n["type"] == "mqtt in"]
    red = NodeRed(node_red_js, tmp_path / "node-red", flows)
    try:
        await red.start()
        async with sidebar_of(red) as (sidebar, http):
            connected = "node-red:common.status.connected"
            await sidebar.wait(
                lambda: all(sidebar.status.get(i, {}).get("text") == connected for i in mqtt_in)
            )
            async with running_bridge(bridge_settings(mosquitto.port, [sim], tmp_path)):
                # state in -> parsed numbers
                await sidebar.wait(lambda: bool(sidebar.numbers("production_w")))
                await sidebar.wait(lambda: bool(sidebar.numbers("reserve_soc")))
                first = sidebar.numbers("production_w")[-1]
                assert isinstance(first, int)
                assert first > 0
                assert sidebar.numbers("reserve_soc")[-1] != 30  # the command below changes it
                changed = first + 1234
                _set_production(sim, changed)
                await sidebar.wait(lambda: changed in sidebar.numbers("production_w"))

                # command out (the inject button) -> bridge -> Envoy -> result back in the flow
                writes_before = len(command_writes(sim))
                async with http.post(f"{red.url}/inject/{INJECT_ID}") as response:
                    assert response.status == 200
                await sidebar.wait(lambda: bool(sidebar.results()))
                result = sidebar.results()[-1]
                assert result["command"] == "reserve_soc"
                assert result["status"] == "ok", result
                assert result["value"] == 30
                assert result["transaction"].startswith("node-red-")
                writes = command_writes(sim)[writes_before:]
                assert [(w.method, w.path) for w in writes] == [("PUT", "/admin/lib/tariff")]
                assert writes[0].body["tariff"]["storage_settings"]["reserved_soc"] == 30
                # ... and the re-read state reaches the flow as a number again
                await sidebar.wait(lambda: 30 in sidebar.numbers("reserve_soc"))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nNode-RED log:\n{red.tail()}") from None
    finally:
        await red.stop()


def test_node_red_docs_name_the_flows_topics_and_command() -> None:
    docs = (FLOWS.parents[2] / "docs" / "consumers.md").read_text()
    section = docs.split("## Node-RED\n", 1)[1].split("\n## ", 1)[0]
    flows = json.loads(FLOWS.read_text())
    topics = [n["topic"] for n in flows if n["type"] == "mqtt in"]
    assert len(topics) == 4
    for topic in topics:
        assert f"`{topic}`" in section, topic
    inject = next(n for n in flows if n["id"] == INJECT_ID)
    assert f"*{inject['name']}*" in section
    assert f"envoy2mqtt/<serial>/{inject['topic']}/set" in section
    assert "examples/node-red/flows.json" in section


async def test_node_red_that_exits_before_listening_fails_start_with_its_output(
    node_red_js: Path, tmp_path: Path
) -> None:
    red = NodeRed(node_red_js, tmp_path / "node-red", [])
    (red.user_dir / "settings.js").write_text('throw new Error("settings-broken-on-purpose");\n')
    try:
        with pytest.raises(AssertionError, match="exited") as info:
            await red.start()
        assert "settings-broken-on-purpose" in str(info.value)
        assert red.port == 0
    finally:
        await red.stop()
