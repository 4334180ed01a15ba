"""Oversize and hostile Envoy responses against the running bridge: bounded reads, no XML
entity expansion, nothing wrong published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.envoy.transport import DEFAULT_MAX_BODY
from envoy2mqtt.simulator.faults import Fault, FaultKind
from tests.bridge_helpers import FIXTURES, Watcher
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import messages

T = Topics("envoy2mqtt")
FIXTURE = "8.3.5169_with_generator"

# "Billion laughs": a few hundred bytes that expand to gigabytes in a naive XML parser.
_BOMB_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE envoy_info [\n<!ENTITY a "aaaaaaaaaa">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(8))
    + "]>\n"
)


async def test_huge_body_is_cut_off_the_group_stale_and_nothing_wrong_published(
    bridge_stack: BridgeStack, watcher: Watcher, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    gateway = T.state(sim.serial, "gateway")
    meters = T.state(sim.serial, "meters/production")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: meters in w.latest)
        before, start = watcher.latest[meters], len(watcher.log)
        await sim.inject(
            Fault(FaultKind.HUGE, path="/ivp/meters/readings", size=4 * DEFAULT_MAX_BODY)
        )
        await watcher.wait(lambda w: "meters" in w.json(gateway).get("stale", []))
        assert watcher.latest[T.availability(sim.serial)] == b"online"
        assert messages(watcher, meters, start) in ([], [before])
        sim.clear_faults()
        await watcher.wait(lambda w: "stale" not in w.json(gateway))
    assert f"exceeds the {DEFAULT_MAX_BODY}" in caplog.text  # refused before reading it
    assert "Traceback" not in caplog.text


def _bomb_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "bomb"
    shutil.copytree(FIXTURES / FIXTURE, target)
    info = (target / "info").read_text()
    body = info.split("?>", 1)[1] if info.startswith("<?xml") else info
    # &i; expands to 10**9 characters; defusedxml must refuse the DTD before expanding it.
    body = body.replace("<software>", "<software>&i;", 1)
    (target / "info").write_text(_BOMB_DTD + body.lstrip())
    return target


async def test_xml_entity_expansion_in_info_is_refused_with_a_clear_error(
    bridge_stack: BridgeStack, watcher: Watcher, tmp_path: Path
) -> None:
    fixture = _bomb_fixture(tmp_path)
    sim = await bridge_stack.sim(str(fixture))
    settings = bridge_stack.settings(sim)
    envoy = {"host": sim.url, "token": sim.issue_token(), "serial": sim.serial}
    settings = bridge_stack.settings(sim, envoys=[envoy])
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        await watcher.wait(lambda w: "last_error" in w.json(T.bridge_info).get("envoys", [{}])[0])
        error = watcher.json(T.bridge_info)["envoys"][0]["last_error"]
        sim.requests.clear()
        await sim.requests.wait_for(lambda _e: len(sim.requests.entries(path="/info")) >= 2, 10)
        assert watcher.latest[T.bridge_state] == b"online"
        published = [t for t, _, _ in watcher.log if t.startswith(f"envoy2mqtt/{sim.serial}/")]
    assert "EntitiesForbidden" in error  # defusedxml refused the DTD, nothing expanded
    assert "aaaaaaaaaa" not in json.dumps(watcher.json(T.bridge_info))
    assert set(published) == {availability}  # nothing from the hostile document
