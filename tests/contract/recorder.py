"""Record the public MQTT contract: the full retained topic set the real bridge leaves.

For every fixture with data (plus component discovery and a named instance) one real
:class:`~envoy2mqtt.bridge.Bridge` serves one simulated Envoy over real HTTP(S) sockets and
publishes to its own mosquitto on 127.0.0.1 (fixtures share serials, and every bridge owns
``<base>/bridge/*``); all recordings run at once. Once every poll tier has polled and
published twice, a fresh subscriber collects every retained message (state topics, bridge
topics, discovery configs), and the run-specific values listed in :data:`NORMALISED` are
replaced by placeholders. ``tests/contract/test_contract_recording.py`` compares the result
with the committed recording; ``python -m tests.contract.record`` rewrites it.

Determinism: the simulators serve static fixture values (golden URL mapping, no live random
walk) on a fixed clock (:data:`SIM_CLOCK`: token expiry and live-data times are the same in
every run); a recording is only taken once two retained sets one further poll round apart
are equal, and an attempt in which a poll failed (a loaded machine) is repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

import envoy2mqtt
from envoy2mqtt.settings import IntervalSettings
from envoy2mqtt.simulator.livedata import offers_livedata
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import FIXTURES, Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto

RECORDING_DIR = Path(__file__).resolve().parent / "recording"
#: The simulators' wall clock (epoch seconds, 2096): tokens minted at this time stay valid
#: against the bridge host's real clock for decades, and their expiry is the same every run.
SIM_CLOCK = 4_000_000_000.0
#: Every tier (the /info check too) at this period in seconds. A tier's poll may take 80 % of
#: its period: 4 s leaves room for a loaded machine running every recording at once (at 1 s
#: the 2 s budget overran under load, and a stale group is not the contract).
INTERVALS = IntervalSettings(fast=5, normal=5, slow=5, firmware=5)
#: Every control enabled, so that every discovery entity exists.
ALL_CONTROLS = {"grid_relay": True, "dry_contacts": True, "storage": True}
INSTANCE_NAME = "north"
WAIT_LIMIT = 90.0
#: Attempts per recording: one whose poll failed (see Recorder._record) is repeated.
ATTEMPTS = 3

# -- normalisation -------------------------------------------------------------------------
#
# The ONLY values replaced before comparing. Each rule names where it applies and checks
# the value it replaces, so a key that vanishes or changes type is still a difference.
#
# 1. Poll times: ``last_poll`` / ``last_poll_iso`` in the ``gateway`` state (wall clock of the
#    bridge host at the poll).
# 2. The package version: ``version`` of ``bridge/info`` and ``o.sw_version`` of every discovery
#    config (must equal ``envoy2mqtt.__version__``; a release bump is not a contract change).
# 3. The simulator's address: its ``http(s)://127.0.0.1:<random port>`` (and the bare
#    ``127.0.0.1:<port>``) anywhere in a payload, e.g. ``bridge/info`` hosts and the gateway
#    device's ``configuration_url``.
# 4. The broker port: ``mqtt.port`` of ``bridge/info`` (one listener per bridge, random).
NORMALISED: tuple[str, ...] = (
    "<base>/<sn>/gateway: last_poll, last_poll_iso -> <poll-time>, <poll-time-iso>",
    "<base>/bridge[/<instance>]/info: version; <discovery>: o.sw_version -> <version>",
    "any payload: the simulator's URL / host:port -> <envoy-url> / <envoy-host>",
    "<base>/bridge[/<instance>]/info: mqtt.port -> <mqtt-port>",
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Variant:
    """A setting variant: which fixtures are recorded with which settings overrides."""

    name: str
    fixtures: tuple[str, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)


def data_fixtures() -> tuple[str, ...]:
    """Every fixture directory with captured data (an ``info`` file)."""
    return tuple(sorted(p.name for p in FIXTURES.iterdir() if (p / "info").is_file()))


def variants() -> tuple[Variant, ...]:
    """Every fixture with the defaults, plus component discovery and a named instance."""
    return (
        Variant("default", data_fixtures()),
        Variant(
            "component",
            ("8.3.5169_with_generator",),
            {"homeassistant": {"discovery_mode": "component"}},
        ),
        Variant("instance", ("7.6.185_with_cts_and_battery_3t",), {"instance": INSTANCE_NAME}),
    )


@dataclass(frozen=True)
class Job:
    """One recording: one fixture served by one bridge with one variant's settings."""

    variant: Variant
    fixture: str

    @property
    def key(self) -> str:
        """``<variant>/<fixture>``: the recording file's name without ``.json``."""
        return f"{self.variant.name}/{self.fixture}"

    @property
    def path(self) -> Path:
        """Where the recording is stored."""
        return RECORDING_DIR / f"{self.key}.json"


def jobs(selected: Iterable[str] | None = None) -> list[Job]:
    """Every recording job (only the ``<variant>/<fixture>`` keys in ``selected`` if given)."""
    wanted = None if selected is None else set(selected)
    every = [Job(v, f) for v in variants() for f in v.fixtures]
    return [j for j in every if wanted is None or j.key in wanted]


# -- one broker per bridge --------------------------------------------------------------------
#
# One broker per recording keeps each bridge's retained set apart (fixtures share serials,
# and every bridge publishes ``<base>/bridge/*``). A mosquitto listener with a ``mount_point``
# per bridge would do it in one process, but mosquitto 2.0.11 (Debian bookworm) delivers
# messages with the mount prefix still in the topic, which breaks the bridge's subscriptions.


@contextlib.asynccontextmanager
async def _broker(workdir: Path) -> AsyncIterator[Mosquitto]:
    # Starting and stopping wait for the process: in a thread, so the other bridges poll on.
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    broker = Mosquitto(workdir=workdir)
    await asyncio.to_thread(broker.start)
    try:
        yield broker
    finally:
        await asyncio.to_thread(broker.stop)


# -- waiting for every tier ------------------------------------------------------------------


class CountingSet(set[str]):
    """A ``set`` that also counts every ``add`` per element (the worker's ``polled``).

    The worker adds a tier's name to ``polled`` when a poll of that tier has finished and
    its results were handed to the publisher; counting those adds tells when every tier has
    polled (and published) again, without changing what the set contains.
    """

    def __init__(self, items: Iterable[str], progress: asyncio.Event) -> None:
        super().__init__(items)
        self.counts: Counter[str] = Counter()
        self._progress = progress

    def add(self, item: str) -> None:
        self.counts[item] += 1
        super().add(item)
        self._progress.set()

    def clear(self) -> None:
        self.counts.clear()
        super().clear()


class Progress(Watcher):
    """Everything the recorder waits on: MQTT messages and finished polls wake it up."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.event = asyncio.Event()
        self.health_messages = 0

    async def _add(self, message: aiomqtt.Message) -> None:
        await super()._add(message)
        if message.topic.value.endswith("/health"):
            self.health_messages += 1
        self.event.set()

    async def until(self, done: Callable[[], bool]) -> None:
        """Return once ``done()`` holds, re-checked after every poll and message."""
        async with asyncio.timeout(WAIT_LIMIT):
            while not done():
                self.event.clear()
                await self.event.wait()


def tier_rounds(bridge: Any, progress: Progress) -> int | None:
    """Polls every tier of every set-up Envoy has finished since counting began (the minimum).

    None while some Envoy is neither set up nor visibly failed; an Envoy whose setup fails
    (``3.7.0``: no production endpoint) counts as done once ``bridge/info`` reports its error.
    This is the one place that reads the bridge's internals (``workers``, ``tiers``,
    ``polled``, ``topics``): adapt it when the worker changes shape.
    """
    workers = list(bridge.workers)
    if not workers:
        return None
    info = progress.json(bridge.topics.bridge_info)
    failed = {e.get("host") for e in info.get("envoys", []) if e.get("last_error")}
    counts = []
    for worker in workers:
        if not isinstance(worker.polled, CountingSet):
            worker.polled = CountingSet(worker.polled, progress.event)
        tiers = [str(t.name) for t in worker.tiers]
        if tiers:
            counts += [worker.polled.counts[t] for t in tiers]
        elif worker.host not in failed or not _offline_seen(worker, bridge, progress):
            return None
    return min(counts, default=0)


def _offline_seen(worker: Any, bridge: Any, progress: Progress) -> bool:
    serial = worker.serial
    return serial is None or progress.latest.get(bridge.topics.availability(serial)) == b"offline"


# -- collecting and normalising --------------------------------------------------------------


async def retained_set(port: int) -> dict[str, bytes]:
    """Every retained message a fresh subscriber gets from the listener on ``port``.

    The broker sends a subscription's retained messages before anything published after
    the SUBACK, so the end marker (not retained) comes back after all of them.
    """
    marker = f"contract-recorder/end/{uuid.uuid4().hex}"
    found: dict[str, bytes] = {}
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"recorder-{uuid.uuid4().hex}") as c:
        await c.subscribe("#", qos=1)
        await c.publish(marker, b"end", qos=1)
        async with asyncio.timeout(WAIT_LIMIT):
            async for message in c.messages:
                topic = message.topic.value
                if topic == marker:
                    break
                payload = message.payload if isinstance(message.payload, bytes) else b""
                if message.retain and payload:
                    found[topic] = payload
    return found


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode()


def _replace_text(value: Any, swaps: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in swaps.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_text(v, swaps) for v in value]
    if isinstance(value, dict):
        return {k: _replace_text(v, swaps) for k, v in value.items()}
    return value


def _placeholder(payload: dict[str, Any], key: str, check: Callable[[Any], bool], to: str) -> None:
    if key in payload:
        value = payload[key]
        payload[key] = to if check(value) else value  # an unexpected value stays visible


def _is_epoch(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _is_iso(value: Any) -> bool:
    return isinstance(value, str) and _ISO.match(value) is not None


def normalise(topic: str, payload: Any, sim_url: str, mqtt_port: int) -> Any:
    """Apply :data:`NORMALISED` to one decoded payload."""
    host = sim_url.split("://", 1)[1]
    payload = _replace_text(payload, {sim_url: "<envoy-url>", host: "<envoy-host>"})
    if not isinstance(payload, dict):
        return payload
    if topic.endswith("/gateway") and not topic.startswith("homeassistant/"):
        _placeholder(payload, "last_poll", _is_epoch, "<poll-time>")
        _placeholder(payload, "last_poll_iso", _is_iso, "<poll-time-iso>")
    version = envoy2mqtt.__version__
    if re.fullmatch(r".*/bridge(/[^/]+)?/info", topic):
        _placeholder(payload, "version", version.__eq__, "<version>")
        mqtt = payload.get("mqtt")
        if isinstance(mqtt, dict):
            _placeholder(mqtt, "port", mqtt_port.__eq__, "<mqtt-port>")
    origin = payload.get("o")
    if topic.startswith("homeassistant/") and isinstance(origin, dict):
        _placeholder(origin, "sw_version", version.__eq__, "<version>")
    return payload


# -- running ------------------------------------------------------------------------------


class NotSettled(AssertionError):
    """Two retained sets one poll round apart differ: the recording would not be stable."""


@dataclass
class Recorder:
    """Runs the jobs against one shared broker; ``concurrency`` bridges at a time."""

    workdir: Path
    concurrency: int = 40
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    #: Attempts that were repeated, and why (printed by the CLI, reported by the test).
    retried: list[str] = field(default_factory=list)

    async def run(self, selected: list[Job]) -> dict[str, dict[str, Any]]:
        """Record every job; returns ``<variant>/<fixture>`` -> topic -> normalised payload."""
        gate = asyncio.Semaphore(self.concurrency)
        async with asyncio.TaskGroup() as group:
            for job in selected:
                group.create_task(self._one(job, gate))
        if self.failures:
            text = "\n".join(f"{key}: {why}" for key, why in sorted(self.failures.items()))
            raise NotSettled(f"no stable recording for {len(self.failures)} job(s):\n{text}")
        return dict(sorted(self.results.items()))

    async def _one(self, job: Job, gate: asyncio.Semaphore) -> None:
        async with gate:
            for attempt in range(1, ATTEMPTS + 1):
                work = self.workdir / job.key.replace("/", "_") / str(attempt)
                async with _simulator(job.fixture) as sim, _broker(work) as broker:
                    try:
                        disturbed = await self._record(job, sim, broker.port, work)
                    except TimeoutError:
                        disturbed = "the bridge did not poll every tier in time"
                    except NotSettled as exc:
                        # No poll failed, yet the set changed: a real non-determinism.
                        self.failures[job.key] = str(exc)
                        return
                if disturbed is None:
                    self.failures.pop(job.key, None)
                    return
                self.failures[job.key] = disturbed
                self.retried.append(f"{job.key} (attempt {attempt}): {disturbed.splitlines()[0]}")

    async def _record(self, job: Job, sim: EnvoySimulator, port: int, work: Path) -> str | None:
        """Record ``job`` into :attr:`results`; else say why this attempt is no recording."""
        settings = bridge_settings(
            port, [sim], work, controls=ALL_CONTROLS, **dict(job.variant.overrides)
        )
        envoys = [e.model_copy(update={"intervals": INTERVALS}) for e in settings.envoys]
        settings = settings.model_copy(update={"envoys": envoys})
        progress = Progress(port)
        await progress.start()
        try:
            async with running_bridge(settings) as bridge:
                # Two rounds: the first live-data poll enables the stream the second one shows.
                await progress.until(lambda: (tier_rounds(bridge, progress) or 0) >= 2)
                first = await retained_set(port)
                rounds, health = tier_rounds(bridge, progress) or 0, progress.health_messages
                await progress.until(
                    lambda: (
                        (tier_rounds(bridge, progress) or 0) > rounds
                        and progress.health_messages > health
                    )
                )
                second = await retained_set(port)
                failed = [w.stats.last_error for w in bridge.workers if w.stats.polls_failed]
        finally:
            await progress.stop()
        if failed:
            # The simulator injects no faults: a failed poll (a tier's budget overran on a
            # loaded machine) is not the contract, and would leave its error in bridge/info.
            return f"a poll failed: {failed[0]}"
        a = self._normalised(first, sim.url, port)
        b = self._normalised(second, sim.url, port)
        if a != b:
            changed = diff(a, b)
            raise NotSettled(f"the retained set changed within one poll round\n{changed}")
        self.results[job.key] = a
        return None

    @staticmethod
    def _normalised(found: Mapping[str, bytes], sim_url: str, port: int) -> dict[str, Any]:
        return {t: normalise(t, _decode(p), sim_url, port) for t, p in sorted(found.items())}


@contextlib.asynccontextmanager
async def _simulator(fixture: str) -> AsyncIterator[EnvoySimulator]:
    # Golden mode: URLs map to files as when the goldens were made (every fixture sets up);
    # live data (synthesised from the fixture) where the device mode would serve it.
    directory = FIXTURES / fixture
    offers = offers_livedata(EnvoySimulator(directory, mode="golden").state)
    sim = EnvoySimulator(directory, mode="golden", clock=lambda: SIM_CLOCK, livedata=offers)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


# -- files and diffs -------------------------------------------------------------------------


def dumps(topics: Mapping[str, Any]) -> str:
    """The recording file's text: sorted keys, indented, one topic per top-level key."""
    return json.dumps(topics, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(job: Job) -> dict[str, Any] | None:
    """The committed recording of ``job`` (None when there is none)."""
    return json.loads(job.path.read_text()) if job.path.is_file() else None


def _paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf key paths (``phases.l1.current``, ``envoys[0].host``) -> value."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= _paths(item, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for index, item in enumerate(value):
            out |= _paths(item, f"{prefix}[{index}]")
        return out
    return {prefix or "(payload)": value}


def diff(old: Mapping[str, Any], new: Mapping[str, Any], limit: int = 60) -> str:
    """A readable difference: topics only in one side, and per topic each changed key path."""
    lines = [f"- topic gone: {t}" for t in sorted(set(old) - set(new))]
    lines += [f"+ new topic: {t}" for t in sorted(set(new) - set(old))]
    for topic in sorted(set(old) & set(new)):
        if old[topic] == new[topic]:
            continue
        a, b = _paths(old[topic]), _paths(new[topic])
        for key in sorted(set(a) | set(b)):
            if a.get(key, _MISSING) != b.get(key, _MISSING):
                was = "(absent)" if key not in a else json.dumps(a[key])
                now = "(absent)" if key not in b else json.dumps(b[key])
                lines.append(f"~ {topic} :: {key}: {was} -> {now}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more differences"]
    return "\n".join(lines)


_MISSING = object()
