"""Battery-settings writes watched after the write, end to end over real sockets.

A simulated 8.2.4345 gateway (optionally with a ``cloud_revert`` rule: accepted tariff
writes are undone a little later with a new ``date``), a real mosquitto and the bridge
with short watch offsets. Every wait is on an MQTT message or a simulator request.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.faults import Fault, FaultKind
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator

FIXTURE = "8.2.4345_with_device_data"  # Encharge + Enpower, tariff with opt_schedules
WATCH = [0.3, 0.6, 1.0]  # seconds after a storage write (production default: 10/30/90/180)
ORIGINAL_RESERVE = 43  # the fixture's reserved_soc
REVERTED = "battery settings reverted"
CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "mqtt-contract.md"


class Gateway:
    """The simulator, the watcher and the topics of one test."""

    def __init__(self, sim: EnvoySimulator, watcher: Watcher) -> None:
        self.sim, self.watcher = sim, watcher
        self.base = f"envoy2mqtt/{sim.serial}"

    @property
    def storage(self) -> dict[str, Any]:
        return dict(self.watcher.json(f"{self.base}/storage"))

    def results(self, control: str, since: int = 0) -> list[dict[str, Any]]:
        topic = f"{self.base}/{control}/result"
        return [json.loads(p) for t, p, _ in self.watcher.since(since) if t == topic]

    async def command(self, control: str, payload: str) -> int:
        """Publish one command; returns the log index to look for its results from."""
        index = len(self.watcher.log)
        await self.watcher.publish(f"{self.base}/{control}/set", payload)
        return index

    async def wait_results(self, control: str, since: int, count: int) -> list[dict[str, Any]]:
        await self.watcher.wait(lambda _w: len(self.results(control, since)) >= count)
        return self.results(control, since)

    async def wait_storage(self, **expected: Any) -> None:
        await self.watcher.wait(
            lambda _w: all(self.storage.get(k) == v for k, v in expected.items())
        )


def _settings(mosquitto: Mosquitto, sim: EnvoySimulator, tmp_path: Path) -> Settings:
    return bridge_settings(
        mosquitto.port, [sim], tmp_path, controls={"storage": True, "storage_watch": WATCH}
    )


@pytest.fixture
async def gateway(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, watcher: Watcher, tmp_path: Path
) -> AsyncIterator[Gateway]:
    sim = await envoy_simulator(FIXTURE)
    gw = Gateway(sim, watcher)
    async with running_bridge(_settings(mosquitto, sim, tmp_path)):
        await gw.wait_storage(reserved_soc=ORIGINAL_RESERVE)
        yield gw


def contract_example(status: str) -> Any:
    """The JSON example with ``status`` from the battery-settings section of the contract."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("### Battery-settings writes that do not stick") :]
    blocks = re.findall(r"```json\n(.*?)\n```", section, flags=re.DOTALL)
    return next(json.loads(b) for b in blocks if json.loads(b).get("status") == status)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and REVERTED in r.getMessage()
    ]


async def test_cloud_revert_sends_a_second_result_and_shows_the_real_value(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gw = gateway
    caplog.set_level(logging.INFO, logger="envoy2mqtt.bridge.tariff_watch")
    assert gw.storage["settings_control"] == "unknown"
    await gw.sim.inject(Fault(FaultKind.CLOUD_REVERT, seconds=0.1))
    since = await gw.command("reserve_soc", '{"value": 80, "transaction": "t-1"}')
    first, second = await gw.wait_results("reserve_soc", since, 2)
    assert first == {"status": "ok", "value": 80, "transaction": "t-1"}
    assert second["status"] == "reverted"
    assert second["value"] == ORIGINAL_RESERVE
    assert second["transaction"] == "t-1"
    assert "cloud configuration replaced the local change" in second["error"]
    assert second == contract_example("reverted")  # the documented payload is real output
    await gw.wait_storage(reserved_soc=ORIGINAL_RESERVE, settings_control="cloud")
    assert gw.sim.cloud.pushes == 1
    [warning] = _warnings(caplog)
    assert f"serial={gw.sim.serial}" in warning
    assert "firmware=8.2.4345" in warning
    assert "cause=value changed" in warning

    # While the gateway is "cloud", a storage write is answered with a warning first,
    # and a second revert is logged without another WARNING.
    since = await gw.command("storage_mode", "backup")
    first, second = await gw.wait_results("storage_mode", since, 2)
    assert first["status"] == "ok"
    assert first["value"] == "backup"
    assert "may be replaced" in first["warning"]
    assert f'"warning": "{first["warning"]}"' in CONTRACT.read_text(encoding="utf-8")
    assert second["status"] == "reverted"
    assert second["value"] == "self_consumption"
    # the state shows the command word the result names (and the Envoy's own beside it)
    await gw.wait_storage(
        mode="self_consumption", envoy_mode="self-consumption", settings_control="cloud"
    )
    assert len(_warnings(caplog)) == 1
    assert sum(REVERTED in r.getMessage() for r in caplog.records) == 2


async def test_cloud_push_of_the_same_value_is_a_revert_by_date(gateway: Gateway) -> None:
    # The cloud re-sends its tariff with a new date; the value happens to be the written one.
    gw = gateway
    await gw.sim.inject(Fault(FaultKind.CLOUD_REVERT, seconds=0.1))
    date_before = gw.storage["date"]
    since = await gw.command("reserve_soc", str(ORIGINAL_RESERVE))
    first, second = await gw.wait_results("reserve_soc", since, 2)
    assert first["status"] == "ok"
    assert (second["status"], second["value"]) == ("reverted", ORIGINAL_RESERVE)
    assert "a tariff pushed by the cloud arrived after the local change" in second["error"]
    await gw.wait_storage(settings_control="cloud")
    assert gw.storage["date"] != date_before


async def test_write_that_sticks_gets_one_result_and_control_local(gateway: Gateway) -> None:
    gw = gateway
    since = await gw.command("charge_from_grid", "ON")
    await gw.wait_storage(charge_from_grid=True, settings_control="local")
    assert gw.results("charge_from_grid", since) == [{"status": "ok", "value": "ON"}]
    tariff_reads = gw.sim.requests.entries(method="GET", path="/admin/lib/tariff")
    assert len(tariff_reads) >= len(WATCH)


async def test_second_write_in_the_window_retargets_the_watch(gateway: Gateway) -> None:
    gw = gateway
    first = await gw.command("reserve_soc", "80")
    await gw.wait_results("reserve_soc", first, 1)
    second = await gw.command("reserve_soc", "60")
    await gw.wait_results("reserve_soc", second, 1)
    await gw.wait_storage(reserved_soc=60, settings_control="local")
    # the Envoy shows 60, not the first write's 80: that is no revert
    assert [r["status"] for r in gw.results("reserve_soc", first)] == ["ok", "ok"]


async def test_second_write_in_the_window_then_cloud_revert_reports_only_the_second(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, watcher: Watcher, tmp_path: Path
) -> None:
    sim = await envoy_simulator(FIXTURE)
    gw = Gateway(sim, watcher)
    settings = _settings(mosquitto, sim, tmp_path)
    # Dense, long window: the push below is made by the test, whenever it gets to run.
    dense = settings.model_copy(
        update={
            "controls": settings.controls.model_copy(
                update={"storage_watch": [0.3, 0.6, 1, 2, 4, 8, 16]}
            )
        }
    )
    await sim.inject(Fault(FaultKind.CLOUD_REVERT, seconds=600))
    async with running_bridge(dense):
        await gw.wait_storage(reserved_soc=ORIGINAL_RESERVE)
        first = await gw.command("reserve_soc", "80")
        await gw.wait_results("reserve_soc", first, 1)
        second = await gw.command("reserve_soc", "60")
        await gw.wait_results("reserve_soc", second, 1)
        sim.cloud.push()  # the cloud restores the settings from before the first write
        results = await gw.wait_results("reserve_soc", first, 3)
        assert [(r["status"], r["value"]) for r in results] == [
            ("ok", 80),
            ("ok", 60),
            ("reverted", ORIGINAL_RESERVE),
        ]
        await gw.wait_storage(reserved_soc=ORIGINAL_RESERVE, settings_control="cloud")


async def test_window_crossing_a_bridge_restart_gives_no_reverted_after_restart(
    mosquitto: Mosquitto,
    envoy_simulator: StartSimulator,
    watcher: Watcher,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="envoy2mqtt.bridge.tariff_watch")
    sim = await envoy_simulator(FIXTURE)
    gw = Gateway(sim, watcher)
    settings = _settings(mosquitto, sim, tmp_path)
    long_window = settings.model_copy(
        update={"controls": settings.controls.model_copy(update={"storage_watch": [0.2, 60]})}
    )
    await sim.inject(Fault(FaultKind.CLOUD_REVERT, seconds=600, count=1))
    async with running_bridge(long_window):
        await gw.wait_storage(reserved_soc=ORIGINAL_RESERVE)
        since = await gw.command("reserve_soc", "80")
        await gw.wait_results("reserve_soc", since, 1)
        await gw.wait_storage(reserved_soc=80)
    stopped = len(watcher.log)
    sim.cloud.push()  # the cloud undoes the write while no bridge runs
    async with running_bridge(settings):
        reads = len(sim.requests.entries(method="GET", path="/admin/lib/tariff"))
        await gw.wait_storage(reserved_soc=ORIGINAL_RESERVE, settings_control="unknown")
        # several tariff polls of the new run: none of them reports the old write
        await sim.requests.wait_for(
            lambda _e: (
                len(sim.requests.entries(method="GET", path="/admin/lib/tariff")) >= reads + 3
            ),
            within=30,
        )
        index = len(watcher.log)
        await watcher.publish(f"{gw.base}/charge_from_grid/set", "maybe")  # a marker result
        await gw.wait_results("charge_from_grid", index, 1)
    assert gw.results("reserve_soc", stopped) == []
    assert not [r for r in caplog.records if REVERTED in r.getMessage()]
