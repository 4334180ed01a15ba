"""Hypothesis-fuzzed bad ``/set`` input against the running bridge: every command gets an
error result, the Envoy receives **zero** writes, and the bridge keeps working.

Hypothesis generates the commands (random bytes, huge payloads, wrong JSON types, NaN and
infinities, out-of-range numbers, unknown controls, relay ids and serials); valid inputs
are filtered out by the documented value rules. The whole batch is then sent to one running
bridge (one bridge per example would take minutes).
"""

from __future__ import annotations

import json
import math

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase, given, settings

from envoy2mqtt.catalog.controls import CONTROLS
from envoy2mqtt.catalog.storage import STORAGE_MODES
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import command_writes

FIXTURE = "7.3.517"  # Enpower, batteries, dry contacts NC1 NC2 NO1 NO2, tariff
ALL_CONTROLS = {"grid_relay": True, "dry_contacts": True, "storage": True}
SWITCHES = ("grid_relay", "charge_from_grid", "dry_contacts/nc1", "dry_contacts/no2")
WORDS = frozenset({"on", "off", "true", "false", "1", "0"})
RELAY_WORDS = WORDS | {"closed", "open"}  # what the relay states show is accepted too
MODE_WORDS = frozenset(w for pair in STORAGE_MODES.items() for w in pair)
MAX_COMMAND = 4096  # mqtt.max_command_bytes default

_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
_json = st.recursive(
    _json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_constants = st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"nan", b"1e999", b"-0.5"])


def _text_value(payload: bytes) -> object:
    """What the payload means as a value (plain text or JSON), or None if unparseable."""
    try:
        text = payload.decode().strip()
    except UnicodeDecodeError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def could_be_valid(suffix: str, payload: bytes) -> bool:
    """Conservatively: could this be a valid command for ``suffix`` (then it is not sent)."""
    if len(payload) > MAX_COMMAND:
        return False
    value = _text_value(payload)
    if isinstance(value, dict) and set(value) <= {"value", "transaction"}:
        value = value.get("value")
    if suffix in SWITCHES:
        words = WORDS if suffix == "charge_from_grid" else RELAY_WORDS
        return value in (True, False, 0, 1) or (
            isinstance(value, str) and value.strip().lower() in words
        )
    if suffix == "storage_mode":
        return isinstance(value, str) and value.strip().lower() in MODE_WORDS
    if suffix == "reserve_soc":
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return math.isfinite(number) and 0 <= number <= 100
    if suffix == "dry_contacts/nc1/settings":
        return isinstance(value, dict)  # field-level checks are the catalogue's unit tests
    return False  # unknown controls and ids are never valid


_suffix = st.sampled_from([*SWITCHES, "storage_mode", "reserve_soc"])
_unknown_suffix = st.one_of(
    st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\Z").filter(lambda s: s not in CONTROLS),
    st.from_regex(r"\Adry_contacts/[a-z0-9]{1,6}\Z").filter(
        lambda s: s.split("/")[1] not in {"nc1", "nc2", "no1", "no2"}
    ),
)
_payload = st.one_of(
    st.binary(max_size=64),
    st.binary(min_size=MAX_COMMAND + 1, max_size=MAX_COMMAND + 64),
    _constants,
    _json.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.integers().filter(lambda n: not 0 <= n <= 100).map(lambda n: str(n).encode()),
    st.floats(min_value=0, max_value=100)
    .filter(lambda f: not f.is_integer())
    .map(lambda f: repr(f).encode()),
    st.text(max_size=30).map(str.encode),
)
_settings_payload = st.one_of(
    st.binary(max_size=64).filter(lambda b: not isinstance(_text_value(b), dict)),
    st.sampled_from(
        [
            b'{"soc_low": "x"}',
            b'{"soc_low": NaN}',
            b'{"soc_low": 1000}',
            b'{"soc_high": -5}',
            b'{"no_such_field": 1}',
            b'{"mode": "bogus"}',
            b"[1, 2, 3]",
        ]
    ),
)


def generated_commands(count: int) -> list[tuple[str, bytes]]:
    """``count`` invalid (suffix, payload) pairs drawn by hypothesis."""
    drawn: list[tuple[str, bytes]] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.one_of(
            st.tuples(_suffix, _payload),
            st.tuples(_unknown_suffix, _payload),
            st.tuples(st.just("dry_contacts/nc1/settings"), _settings_payload),
        )
    )
    def collect(command: tuple[str, bytes]) -> None:
        # An empty /set payload is never a command and gets no result (mqtt-contract.md).
        if command[1] and not could_be_valid(*command):
            drawn.append(command)

    collect()
    return drawn


async def test_fuzzed_bad_commands_answer_errors_and_write_nothing(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    commands = generated_commands(150)
    commands += [("reserve_soc", b"NaN"), ("reserve_soc", b"x" * 100_000)]
    commands += [("reserve_soc", b"20")]  # and one for an unknown serial, below
    sim = await bridge_stack.sim(FIXTURE)
    base = f"envoy2mqtt/{sim.serial}"
    settings_ = bridge_stack.settings(sim, controls=ALL_CONTROLS)
    results: list[tuple[str, bytes, dict[str, object]]] = []
    async with bridge_stack.bridge(settings_):
        await watcher.wait(lambda w: w.latest.get(f"{base}/availability") == b"online")
        await watcher.wait(lambda w: f"{base}/storage" in w.latest)
        for index, (suffix, payload) in enumerate(commands):
            prefix = base if index < len(commands) - 1 else "envoy2mqtt/999999999999"
            results.append((suffix, payload, await _send(watcher, prefix, suffix, payload)))
        assert command_writes(sim) == []
        # the bridge is unaffected: a valid command still works, with exactly one write
        good = await _send(watcher, base, "reserve_soc", b"20")
        assert good["status"] == "ok", good
        assert len(command_writes(sim)) == 1
        assert watcher.latest[f"{base}/availability"] == b"online"
        assert watcher.latest["envoy2mqtt/bridge/state"] == b"online"
    assert len(results) >= 100
    bad = [(s, p[:40], r) for s, p, r in results if r.get("status") != "error" or not r["error"]]
    assert bad == []


async def _send(watcher: Watcher, prefix: str, suffix: str, payload: bytes) -> dict[str, object]:
    """Publish one command and return its (single) result."""
    index = len(watcher.log)
    result = f"{prefix}/{suffix}/result"
    await watcher.publish(f"{prefix}/{suffix}/set", payload)
    await watcher.wait(lambda w: any(t == result for t, _, _ in w.since(index)), 10)
    answers = [p for t, p, _ in watcher.since(index) if t == result]
    decoded: dict[str, object] = json.loads(answers[0])
    return decoded
