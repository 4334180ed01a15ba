"""The shapes of catalogue rows: state topics, entity specs, control specs, conditions.

A row says everything about one entity: which state topic it reads, which JSON
key in that topic's payload holds its value, how Home Assistant should show it, when it
exists and, for controls, which ``/set`` topic it writes and how the payload is checked.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from envoy2mqtt.catalog.counters import Counter
from envoy2mqtt.catalog.derived import Derived
from envoy2mqtt.catalog.naming import phase_level
from envoy2mqtt.envoy.groups import DataGroup

if TYPE_CHECKING:
    from envoy2mqtt.catalog.snapshot import Snapshot
    from envoy2mqtt.envoy.command_types import Command


class Component(enum.StrEnum):
    """Home Assistant MQTT platforms the catalogue uses."""

    SENSOR = "sensor"
    BINARY_SENSOR = "binary_sensor"
    SWITCH = "switch"
    SELECT = "select"
    NUMBER = "number"


class Category(enum.StrEnum):
    """Home Assistant entity categories."""

    DIAGNOSTIC = "diagnostic"
    CONFIG = "config"


class DeviceKind(enum.StrEnum):
    """The physical devices that become Home Assistant devices."""

    GATEWAY = "gateway"
    INVERTER = "inverter"
    ENCHARGE = "encharge"
    ENPOWER = "enpower"
    RELAY = "relay"
    COLLAR = "collar"
    C6CC = "c6cc"
    ACB = "acb"
    # Storage settings live on the Enpower when there is one, else on the gateway (as in HA).
    STORAGE_OWNER = "storage_owner"


class ControlFlag(enum.StrEnum):
    """Configuration switches (``controls.*``) that gate write access."""

    GRID_RELAY = "grid_relay"
    DRY_CONTACTS = "dry_contacts"
    STORAGE = "storage"


@dataclasses.dataclass(frozen=True, slots=True)
class StateTopic:
    """One state topic family (declared in :mod:`envoy2mqtt.catalog.state_topics`).

    Attributes:
        pattern: the suffix under ``<base>/<sn>/``; ``{id}`` is a device id level.
        source: the data group its values come from (``None``: probe, ``/info`` and bridge).
        structs: the Structs whose fields are its payload keys (at the top level or, per
            phase, under ``phases``).
        extra: payload keys ``catalog/state.py`` adds beside the Struct fields.
        volatile: keys that change on every reading without saying anything new (at any
            depth): a payload differing only there is not re-sent on its own.
    """

    pattern: str
    source: DataGroup | None
    structs: tuple[type[msgspec.Struct], ...] = ()
    extra: frozenset[str] = frozenset()
    volatile: frozenset[str] = frozenset()
    keys: frozenset[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        fields = {f.name for s in self.structs for f in msgspec.structs.fields(s)}
        object.__setattr__(self, "keys", frozenset(fields) | self.extra)

    @property
    def first_level(self) -> str:
        """The topic's first level (``meters`` for ``meters/{id}``)."""
        return self.pattern.split("/", 1)[0]


@dataclasses.dataclass(frozen=True, slots=True)
class Condition:
    """A creation condition: a test on (snapshot, device id) with a human description."""

    doc: str
    test: Callable[[Snapshot, str | None], bool]

    def __call__(self, snapshot: Snapshot, ident: str | None = None) -> bool:
        """Return whether the entity exists for this snapshot and device."""
        return self.test(snapshot, ident)

    def __and__(self, other: Condition) -> Condition:
        """Both conditions must hold."""
        return Condition(
            f"{self.doc} and {other.doc}", lambda s, i: self.test(s, i) and other.test(s, i)
        )


ALWAYS = Condition("always", lambda _s, _i: True)


def when(doc: str, test: Callable[[Snapshot], bool]) -> Condition:
    """A condition on the snapshot only (gateway-level entities)."""
    return Condition(doc, lambda s, _i: test(s))


def when_item(doc: str, test: Callable[[Snapshot, str], bool]) -> Condition:
    """A condition on one device of a per-device family (``ident`` is that device's id)."""
    return Condition(doc, lambda s, i: i is not None and test(s, i))


@dataclasses.dataclass(frozen=True, slots=True)
class BoolSchema:
    """Payload is a boolean: ON/OFF, true/false (any case), 1/0.

    ``words`` are the (on, off) words the control's state shows (``closed``/``open``),
    accepted too so that a state value can be sent back verbatim.
    """

    words: tuple[str, str] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class EnumSchema:
    """Payload is one of the HA option names, or the Envoy's own name (mapped)."""

    mapping: Mapping[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class IntRangeSchema:
    """Payload is an integer in ``[minimum, maximum]`` (integral floats are accepted)."""

    minimum: int
    maximum: int


@dataclasses.dataclass(frozen=True, slots=True)
class SettingsSchema:
    """Payload is a JSON object with a subset of a dry contact's settings."""


PayloadSchema = BoolSchema | EnumSchema | IntRangeSchema | SettingsSchema


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ControlSpec:
    """One writable control: its ``/set`` topic, payload schema and gating config flag.

    Attributes:
        name: control name used by ``parse_command`` (``grid_relay``, ``dry_contacts``…).
        topic: topic suffix before ``/set``; ``{id}`` is the device id.
        flag: the ``controls.*`` config switch that must be on.
        schema: how the payload is parsed and checked.
        requirement: the Envoy must satisfy this for the control to work.
        build: makes the command from (device id, parsed Envoy-side value).
        dangerous: no HA entity at all while disabled (grid relay, dry contacts).
    """

    name: str
    topic: str
    flag: ControlFlag
    schema: PayloadSchema
    requirement: Condition
    build: Callable[[str | None, Any], Command]
    dangerous: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class EntitySpec:
    """One catalogue row: an entity and everything needed to discover and feed it.

    Attributes:
        key: entity key (HA's description key where the entity mirrors HA).
        component: HA platform.
        device: the device family the entity belongs to.
        topic: state topic suffix; ``{id}`` is replaced by the sanitised device id. Its
            declaration (:mod:`envoy2mqtt.catalog.state_topics`) names the data group the
            value comes from (``storage`` <- ``tariff``).
        value: JSON key in the topic's payload that holds the value; the value template is
            exactly ``{{ value_json.<value> }}`` and the payload always has the key
            (``null`` when unknown). Checked at import against the topic's Struct fields
            (for a ``derived`` row: its source key).
        phase: ``l1``/``l2``/``l3`` when the value sits under ``phases`` in the payload.
        name: entity name; ``None`` means HA's device-class name (or see
            ``device_name_only``).
        device_name_only: the entity has no name of its own (HA shows the device name).
        device_class: HA device class.
        state_class: HA state class.
        unit: native unit (the Envoy's unit, as in the payload).
        suggested_unit: HA's suggested display unit (documented; see discovery).
        precision: HA's suggested display precision, in ``suggested_unit`` if set.
        category: HA entity category.
        enabled: enabled by default.
        icon: mdi icon.
        options: enum-sensor or select options.
        derived: ``value`` is computed from another payload key (ISO timestamp, unit
            conversion, count); see :mod:`envoy2mqtt.catalog.derived`.
        counter: ``value`` is a lifetime or daily counter the bridge guards
            (:mod:`envoy2mqtt.catalog.counters`).
        states: the (on, off) JSON values of a binary sensor or switch state.
        condition: when the entity exists.
        control: the control this entity writes, if any.
        command_template: HA command template (wraps a value into a settings object).
        fallback_for: exists only while this control flag is disabled (a read-only stand-in
            for a dangerous control).
        extra: not part of HA's own integration (our addition).
        base_key: for phase variants, the key of the base row.
        object_key: the key used in unique and object ids when ``key`` would clash with
            another entity on the same device (HA tells platforms apart; MQTT cmps cannot).
    """

    key: str
    component: Component
    device: DeviceKind
    topic: str
    value: str
    phase: str | None = None
    name: str | None = None
    device_name_only: bool = False
    device_class: str | None = None
    state_class: str | None = None
    unit: str | None = None
    suggested_unit: str | None = None
    precision: int | None = None
    category: Category | None = None
    enabled: bool = True
    icon: str | None = None
    options: tuple[str, ...] = ()
    derived: Derived | None = None
    counter: Counter | None = None
    states: tuple[Any, Any] = (True, False)
    condition: Condition = ALWAYS
    control: ControlSpec | None = None
    command_template: str | None = None
    fallback_for: ControlFlag | None = None
    extra: bool = False
    base_key: str | None = None
    object_key: str | None = None


def phase_variants(
    base: EntitySpec, phase_present: Callable[[Snapshot, str], bool], phases: tuple[str, ...]
) -> list[EntitySpec]:
    """Clone ``base`` per phase as HA does: key ``<key>_l1``, name ``… l1``, disabled.

    Args:
        base: the aggregate row.
        phase_present: whether a given pyenphase phase (``L1``) exists in the snapshot.
        phases: pyenphase phase names to clone for.
    """
    variants = []
    for phase in phases:
        level = phase_level(phase)
        name = base.name if base.name is not None else (base.device_class or base.key)
        variants.append(
            dataclasses.replace(
                base,
                key=f"{base.key}_{level}",
                phase=level,
                name=f"{name} {level}",
                enabled=False,
                condition=base.condition
                & Condition(f"phase {phase} present", _phase_test(phase_present, phase)),
                base_key=base.key,
            )
        )
    return variants


def _phase_test(
    present: Callable[[Snapshot, str], bool], phase: str
) -> Callable[[Snapshot, str | None], bool]:
    return lambda s, _i: present(s, phase)
