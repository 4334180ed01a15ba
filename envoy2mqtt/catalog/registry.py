"""All catalogue rows, and the concrete entities they yield for one snapshot."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from envoy2mqtt.catalog import (
    batteries,
    collar,
    counters,
    enpower,
    gateway,
    inverters,
    livedata,
    meters,
    relays,
    storage,
    system,
)
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.devices import device_items, device_slug, resolve
from envoy2mqtt.catalog.naming import join_id, sanitize_topic_level
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.spec import DeviceKind, EntitySpec
from envoy2mqtt.catalog.state_topics import check_row_key, state_topic_of
from envoy2mqtt.catalog.topics import state_suffix

DOMAINS: dict[str, tuple[EntitySpec, ...]] = {
    "system": system.SPECS,
    "meters": meters.SPECS,
    "livedata": livedata.SPECS,
    "inverters": inverters.SPECS,
    "batteries": batteries.SPECS,
    "enpower": enpower.SPECS,
    "collar": collar.SPECS,
    "relays": relays.SPECS,
    "storage": storage.SPECS,
    "gateway": gateway.SPECS,
}
"""Catalogue tables by domain module (the order of ``docs/entities.md``)."""

ALL_SPECS: tuple[EntitySpec, ...] = tuple(s for rows in DOMAINS.values() for s in rows)


def _check_rows() -> None:
    """Every row reads a declared state topic and a key its payload has (at import)."""
    for spec in ALL_SPECS:
        topic = state_topic_of(spec.topic)
        if topic is None:
            raise TypeError(f"row {spec.key}: state topic {spec.topic!r} is not declared")
        key = spec.derived.source if spec.derived is not None else spec.value
        check_row_key(topic, key, f"row {spec.key}")


_check_rows()

_COUNTER_ROWS = tuple((s.topic, s.value, s.counter) for s in ALL_SPECS if s.counter is not None)
LIFETIME_KEYS: frozenset[str] = counters.lifetime_keys(_COUNTER_ROWS)
"""Payload keys of lifetime counters (rows with ``counter=LIFETIME``), at any depth."""
BALANCED_KEYS: tuple[counters.TopicKey, ...] = counters.balanced_keys(_COUNTER_ROWS)
"""Keys that are balanced totals in their topics (``counter=BALANCED``): never held."""
DAILY_COUNTERS: tuple[counters.DailyCounter, ...] = counters.daily_counters(_COUNTER_ROWS)
"""Every daily value the bridge publishes (rows with ``counter=Daily(...)``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Entity:
    """One entity of one snapshot: a row bound to a concrete device.

    Attributes:
        spec: the catalogue row.
        device: the device family after resolving the storage owner.
        ident: the device id (serial, relay id) or ``None`` for singletons.
        topic: the state topic suffix (sanitised), e.g. ``inverters/1234``.
        unique_id: ``<sn>_<device>_<key>``, stable across restarts.
    """

    spec: EntitySpec
    device: DeviceKind
    ident: str | None
    topic: str
    unique_id: str

    @property
    def object_id(self) -> str:
        """The entity's id within its device (``<key>``, sanitised)."""
        return sanitize_topic_level(self.spec.object_key or self.spec.key)


def _wanted(spec: EntitySpec, controls: ControlFlags) -> bool:
    if spec.fallback_for is not None and controls.enabled(spec.fallback_for):
        return False
    # A control whose flag is off gets no entity: HA would offer a button that always fails.
    return spec.control is None or controls.enabled(spec.control.flag)


def _bind(snapshot: Snapshot, spec: EntitySpec, ident: str | None) -> Entity:
    kind, owner = resolve(snapshot, spec.device, ident)
    topic = state_suffix(spec.topic, ident)
    unique_id = join_id(snapshot.serial, device_slug(kind, owner), spec.object_key or spec.key)
    return Entity(spec=spec, device=kind, ident=owner, topic=topic, unique_id=unique_id)


def rows(
    snapshot: Snapshot, controls: ControlFlags | None = None, *, any_flags: bool = False
) -> Iterator[tuple[EntitySpec, str | None]]:
    """Every (row, device id) this snapshot has, by creation conditions and control flags.

    With ``any_flags`` the control flags are ignored: every entity some configuration
    would create (what the state payloads must serve).
    """
    flags = controls or ControlFlags()
    for spec in ALL_SPECS:
        if not any_flags and not _wanted(spec, flags):
            continue
        for ident in device_items(snapshot, spec.device):
            if spec.condition(snapshot, ident):
                yield spec, ident


def entities(
    snapshot: Snapshot, controls: ControlFlags | None = None, *, any_flags: bool = False
) -> Iterator[Entity]:
    """Yield every entity this snapshot has (see :func:`rows`), bound to its device."""
    for spec, ident in rows(snapshot, controls, any_flags=any_flags):
        yield _bind(snapshot, spec, ident)
