"""The availability rule as documented: config comment, docs, settings and behaviour agree.

The rule is written once in docs/mqtt-contract.md ("Availability") and summarised in the
``availability_grace`` comment of config.example.yaml; these tests hold both to the code.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.envoy.errors import EnvoyCommunicationError, EnvoyHTTPStatusError
from envoy2mqtt.envoy.snapshot import EnvoySnapshot
from envoy2mqtt.settings import EnvoySettings
from envoy2mqtt.settings.envoy import GRACE_NORMAL_INTERVALS, default_grace
from tests.bridge.test_bridge_worker import FakeClient, Info, Probe, Recorder
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack

ROOT = Path(__file__).resolve().parents[2]
T = Topics("envoy2mqtt")
FIXTURE = "8.3.5169_with_generator"


def _grace_comment() -> str:
    """The comment block of ``availability_grace`` in config.example.yaml, as one line."""
    lines = (ROOT / "config.example.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "availability_grace:" in line)
    block = [lines[start].split("#", 1)[1]]
    for line in lines[start + 1 :]:
        if not line.strip().startswith("#"):
            break
        block.append(line.strip().lstrip("#"))
    return " ".join(part.strip() for part in block)


def test_config_comment_states_the_code_default() -> None:
    comment = _grace_comment()
    match = re.search(r"null = (\d+) x intervals\.(\w+) \((\d+) s with the defaults\)", comment)
    assert match, comment
    factor, tier, seconds = int(match[1]), match[2], int(match[3])
    assert factor == GRACE_NORMAL_INTERVALS
    assert tier == "normal"
    defaults = EnvoySettings(host="envoy.local")
    assert defaults.grace() == seconds == factor * defaults.intervals.normal
    custom = EnvoySettings(host="envoy.local", intervals={"fast": 2, "normal": 7, "slow": 70})
    assert custom.grace() == factor * 7 == default_grace(7)
    # the worker's own default (no grace passed) is the same number
    worker = EnvoyWorker(object(), object(), host="h", intervals=(2, 7, 70))  # type: ignore[arg-type]
    assert worker.availability.grace == custom.grace()
    # ... and so is what the docs say
    contract = (ROOT / "docs" / "mqtt-contract.md").read_text()
    stated = f"default\n  {factor} \u00d7 `intervals.{tier}` ({seconds} s with the default"
    assert stated in contract
    readme = (ROOT / "README.md").read_text()
    assert f"default {factor} \u00d7 `intervals.{tier}`" in readme


def test_config_comment_states_the_validation() -> None:
    assert "must be longer than intervals.fast" in _grace_comment()
    with pytest.raises(ValidationError, match=r"must be longer than intervals\.fast"):
        EnvoySettings(host="envoy.local", availability_grace=5)
    assert EnvoySettings(host="envoy.local", availability_grace=5.5).grace() == 5.5


@pytest.mark.parametrize(("grace", "expected"), [(None, 6.0), (3.5, 3.5)])
async def test_offline_only_after_the_grace_and_online_with_the_next_good_poll(
    bridge_stack: BridgeStack, watcher: Watcher, grace: float | None, expected: float
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    availability = T.availability(sim.serial)
    envoy: dict[str, Any] = {"intervals": {"fast": 1, "normal": 2, "slow": 4}}
    if grace is not None:
        envoy["availability_grace"] = grace
    settings = bridge_stack.settings(sim)
    settings.envoys[0] = settings.envoys[0].model_copy(update=_envoy_update(envoy))
    assert settings.envoys[0].grace() == expected
    loop = asyncio.get_running_loop()
    async with bridge_stack.bridge(settings) as bridge:
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        worker = bridge.workers[0]
        failed_before = worker.stats.polls_failed
        await sim.stop_listening()
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline", 30)
        offline_at = loop.time()
        last_ok = worker.availability._last_ok
        assert last_ok is not None
        # not earlier than the rule, although unreachable polls kept failing meanwhile
        assert offline_at - last_ok > expected
        # A poll the stopped listener leaves unanswered fails after the 2 s fast budget, so
        # a 3.5 s grace may pass during the first failed poll; 6 s outlasts two of them.
        assert worker.stats.polls_failed - failed_before >= (2 if expected > 4 else 1)
        await sim.resume_listening()
        await watcher.wait(lambda w: w.latest.get(availability) == b"online", 30)
        assert worker.availability.online


def _envoy_update(envoy: dict[str, Any]) -> dict[str, Any]:
    base = EnvoySettings(host="envoy.local", **envoy)
    return {"intervals": base.intervals, "availability_grace": base.availability_grace}


@pytest.mark.parametrize(("groups", "warned"), [(["production"], True), (["meters"], False)])
async def test_a_grace_not_longer_than_the_fastest_data_poll_is_warned_about(
    caplog: pytest.LogCaptureFixture, groups: list[str], warned: bool
) -> None:
    client = FakeClient()

    async def setup() -> EnvoySnapshot:  # an Envoy without meters: data at the normal interval
        client.info = Info()
        client.probe_result = Probe(groups=groups)
        return client.snapshot()

    client.setup = setup  # type: ignore[method-assign]
    worker = EnvoyWorker(client, Recorder(), host="h", intervals=(5, 60, 600), grace=45)
    with caplog.at_level(logging.WARNING, logger="envoy2mqtt.bridge.poll_rules"):
        await worker._setup_until_ready()
    assert ("availability grace too short" in caplog.text) is warned
    if warned:
        assert "grace=45s fastest_data_tier=long interval=60s" in caplog.text


async def test_back_online_with_the_first_good_poll_before_its_data_is_reported() -> None:
    client, rec = FakeClient(), Recorder()
    worker = EnvoyWorker(client, rec, host="h", intervals=(10, 20, 30), grace=15)
    await client.setup()
    await worker._poll_groups(["meters"])
    client.down = True
    with pytest.raises(EnvoyCommunicationError):
        await worker._poll_groups(["meters"])
    worker.availability.evaluate(asyncio.get_running_loop().time() + 16)  # grace ran out
    assert not worker.availability.online
    rec.events.clear()
    client.down = False
    await worker._poll_groups(["meters"])  # one good poll is enough
    assert rec.events == [("availability", True), ("updated", frozenset({"meters"}))]


async def test_a_poll_where_every_group_answers_an_error_does_not_renew_the_grace() -> None:
    client, rec = FakeClient(), Recorder()
    worker = EnvoyWorker(client, rec, host="h", intervals=(10, 20, 30), grace=15)
    await client.setup()
    await worker._poll_groups(["meters"])
    deadline = worker.availability.deadline()
    client.group_errors = {"meters": EnvoyHTTPStatusError(500, "/ivp/meters/readings")}
    await worker._poll_groups(["meters"])
    assert worker.availability.online  # stale, not offline ...
    assert worker.availability.deadline() == deadline  # ... but the grace still runs out
    client.group_errors = {}
    await worker._poll_groups(["meters"])
    assert (worker.availability.deadline() or 0) > (deadline or 0)
