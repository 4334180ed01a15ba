"""The example payloads in the docs are real output, compared with the catalogue's for one fixture.

Every ``envoy2mqtt/<sn>/<group> {json}`` line of a code block (the form ``mosquitto_sub -v``
prints) must equal the state payload the catalogue builds for the fixture below; every
``mosquitto_pub -t '…/set' -m '…'`` line followed by a ``# {json}`` line must be answered
with exactly that result; every openHAB ``JSONPATH:$.<key>`` must name a key of its topic.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.catalog.commands import CommandError, parse_command
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.catalog.topics import control_for_path
from envoy2mqtt.mqtt.router import CommandResult
from tests.catalog_helpers import ROOT, snapshot

DOCS_FIXTURE = "7.6.185_with_cts_and_battery_3t"
DOCS_SERIAL = "122334455667"  # the serial the docs use for "your Envoy"
DOCS = [ROOT / "docs" / "consumers.md", ROOT / "docs" / "mqtt-contract.md"]

_STATE = re.compile(rf"^envoy2mqtt/{DOCS_SERIAL}/(\S+) (\{{.*\}})$")
_RESULT = re.compile(r"^# (\{.*\})$")
_JSONPATH = re.compile(
    r'stateTopic="envoy2mqtt/\d+/([^"]+)", transformationPattern="JSONPATH:\$\.(\w+)"'
)


def _code_lines(path: Path) -> list[str]:
    lines, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line.strip())
    return lines


def _states() -> dict[str, Any]:
    return state_payloads(snapshot(DOCS_FIXTURE))


def _result(topic: str, payload: str) -> dict[str, Any]:
    path = topic.removeprefix(f"envoy2mqtt/{DOCS_SERIAL}/").removesuffix("/set")
    control, ident = control_for_path(path)
    flags = ControlFlags(grid_relay=True, dry_contacts=True, storage=True)
    try:
        parsed = parse_command(snapshot(DOCS_FIXTURE), control, ident, payload.encode(), flags)
    except CommandError as err:
        return CommandResult.failure(err.message, err.transaction).to_payload()
    return CommandResult.ok(parsed.value, parsed.transaction).to_payload()


def _commands(lines: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for line, answer in itertools.pairwise(lines):
        result = _RESULT.match(answer)
        if line.startswith("mosquitto_pub ") and result:
            words = shlex.split(line)
            topic, payload = words[words.index("-t") + 1], words[words.index("-m") + 1]
            found.append((topic, payload, json.loads(result.group(1))))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_example_state_payloads_are_real_output(doc: Path) -> None:
    states = _states()
    examples = [m for line in _code_lines(doc) if (m := _STATE.match(line))]
    assert examples, f"{doc.name} shows no state payload"
    for match in examples:
        group, shown = match.group(1), json.loads(match.group(2))
        real = json.dumps(states[group], separators=(",", ":"))
        assert shown == states[group], f"{doc.name} {group}: the real payload is\n{real}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_example_command_results_are_real_output(doc: Path) -> None:
    commands = _commands(_code_lines(doc))
    assert commands, f"{doc.name} shows no command with its result"
    for topic, payload, shown in commands:
        assert shown == _result(topic, payload), f"{doc.name}: {topic} {payload}"


def test_openhab_jsonpaths_name_keys_of_their_topics() -> None:
    text = (ROOT / "docs" / "consumers.md").read_text(encoding="utf-8")
    paths = _JSONPATH.findall(text)
    assert len(paths) >= 3
    states = _states()
    for group, key in paths:
        assert key in states[group], f"{group} has no {key}"
