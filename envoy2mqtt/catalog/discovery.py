"""Home Assistant MQTT discovery payloads built from the catalogue.

Device mode (default) publishes one ``<prefix>/device/<device_id>/config`` per physical
device with ``dev``, ``o`` and ``cmps``; component mode publishes one
``<prefix>/<component>/<device_id>/<key>/config`` per entity. Both carry the same entity
configs: state from the state topic through a value template, availability from the
bridge and Envoy topics (mode ``all``), and for controls a ``…/set`` command topic.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any, Final, Literal

from envoy2mqtt import __version__
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.devices import ID_PREFIX, device_id, device_info
from envoy2mqtt.catalog.naming import join_id
from envoy2mqtt.catalog.registry import Entity, entities
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.spec import Component, EntitySpec, IntRangeSchema
from envoy2mqtt.catalog.topics import Topics, discovery_device_topic, discovery_entity_topic

SUPPORT_URL: Final = "https://github.com/envoy2mqtt/envoy2mqtt"

# MQTT sensors cannot suggest a display unit, so HA's suggested precision (given in the
# suggested unit) is converted to the native unit: 3 decimals of kW are 0 decimals of W.
_UNIT_EXPONENT: Final = {"W": 0, "kW": 3, "Wh": 0, "kWh": 3, "MWh": 6, "V": 0, "A": 0}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DiscoveryOptions:
    """How discovery is published.

    Attributes:
        base_topic: the bridge's base topic (``envoy2mqtt``).
        discovery_prefix: HA discovery prefix (``homeassistant``).
        mode: ``device`` (one config per device) or ``component`` (one per entity).
        controls: which controls are enabled (disabled ones get no entity).
        bridge_version: reported as the origin's ``sw_version``.
        support_url: reported as the origin's ``support_url``.
        id_prefix: namespace of unique ids and device identifiers; empty = the bridge's
            own (``<sn>_…`` / ``envoy2mqtt_<sn>…``). The demo sets ``envoy2mqtt-demo`` so
            its entities never collide with a real Envoy of the same serial.
        bridge_state_topic: the serving bridge's ``state`` topic (Last Will), listed first
            in every entity's availability; ``None`` = ``<base_topic>/bridge/state``. A
            bridge with an ``instance`` name passes ``<base>/bridge/<instance>/state``.
    """

    base_topic: str = "envoy2mqtt"
    discovery_prefix: str = "homeassistant"
    mode: Literal["device", "component"] = "device"
    controls: ControlFlags = dataclasses.field(default_factory=ControlFlags)
    bridge_version: str = __version__
    support_url: str = SUPPORT_URL
    id_prefix: str = ""
    bridge_state_topic: str | None = None

    @property
    def device_prefix(self) -> str:
        """The first part of every device identifier."""
        return self.id_prefix or ID_PREFIX

    def unique_id(self, entity: Entity) -> str:
        """``entity``'s unique id in this namespace."""
        return join_id(self.id_prefix, entity.unique_id) if self.id_prefix else entity.unique_id


def value_template(spec: EntitySpec) -> str:
    """The value template of ``spec``: a plain ``{{ value_json.<key> }}``, nothing else.

    Any consumer's template engine renders it (HA's Jinja2, openHAB's Jinjava or its port
    of HA's template code): the state payload always carries the key, ``null`` when
    unknown, which HA shows as unknown; keys HA needs converted are computed into the
    payload (:mod:`envoy2mqtt.catalog.derived`).
    """
    path = ("phases", spec.phase, spec.value) if spec.phase is not None else (spec.value,)
    return "{{ value_json." + ".".join(path) + " }}"


def display_precision(spec: EntitySpec) -> int | None:
    """HA's suggested precision expressed in the native unit (see ``_UNIT_EXPONENT``)."""
    if spec.precision is None:
        return None
    if spec.suggested_unit is None or spec.unit is None or spec.suggested_unit == spec.unit:
        return spec.precision
    shift = _UNIT_EXPONENT[spec.suggested_unit] - _UNIT_EXPONENT[spec.unit]
    return max(0, spec.precision - shift)


def _availability(options: DiscoveryOptions, snapshot: Snapshot) -> list[dict[str, str]]:
    topics = Topics(options.base_topic)
    return [
        {"topic": options.bridge_state_topic or topics.bridge_state},
        {"topic": topics.availability(snapshot.serial)},
    ]


def _presentation(spec: EntitySpec) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "device_class": spec.device_class,
        "state_class": spec.state_class,
        "unit_of_measurement": spec.unit,
        "suggested_display_precision": display_precision(spec),
        "entity_category": spec.category.value if spec.category else None,
        "icon": spec.icon,
        "options": list(spec.options) or None,
    }
    if spec.component is Component.BINARY_SENSOR:
        # JSON values, as zigbee2mqtt sends them: HA (and openHAB's port of its code) reads
        # payload_on true as "True" and renders true as "True"; Jinjava-based versions read
        # "true" and render "true". Each agrees with itself for the same JSON value.
        fields["payload_on"], fields["payload_off"] = spec.states
    if not spec.enabled:
        fields["enabled_by_default"] = False
    if spec.device_name_only:
        fields["name"] = None  # HA then shows the device name alone
    elif spec.name is not None:
        fields["name"] = spec.name
    return {k: v for k, v in fields.items() if v is not None or k == "name"}


def _command(entity: Entity, options: DiscoveryOptions, snapshot: Snapshot) -> dict[str, Any]:
    spec, control = entity.spec, entity.spec.control
    if control is None:
        return {}
    fields: dict[str, Any] = {
        "command_topic": Topics(options.base_topic).command(
            snapshot.serial, control.name, entity.ident
        ),
        "optimistic": False,
    }
    if spec.command_template is not None:
        fields["command_template"] = spec.command_template
    if spec.component is Component.SWITCH:
        on, off = spec.states
        fields |= {"payload_on": "ON", "payload_off": "OFF", "state_on": on, "state_off": off}
    if spec.component is Component.NUMBER:
        bounds = control.schema if isinstance(control.schema, IntRangeSchema) else None
        fields |= {"min": bounds.minimum if bounds else 0, "max": bounds.maximum if bounds else 100}
        fields["step"] = 1
    return fields


def entity_config(entity: Entity, snapshot: Snapshot, options: DiscoveryOptions) -> dict[str, Any]:
    """The HA discovery config of one entity (without device and origin)."""
    config: dict[str, Any] = {
        "platform": entity.spec.component.value,
        "unique_id": options.unique_id(entity),
        "state_topic": Topics(options.base_topic).state(snapshot.serial, entity.topic),
        "value_template": value_template(entity.spec),
        "availability": _availability(options, snapshot),
        "availability_mode": "all",
    }
    return config | _presentation(entity.spec) | _command(entity, options, snapshot)


def origin(options: DiscoveryOptions) -> dict[str, str]:
    """The ``o`` (origin) object: who publishes this discovery."""
    return {
        "name": "envoy2mqtt",
        "sw_version": options.bridge_version,
        "support_url": options.support_url,
    }


def _device_mode(snapshot: Snapshot, options: DiscoveryOptions) -> dict[str, dict[str, Any]]:
    by_device: dict[str, list[Entity]] = defaultdict(list)
    for entity in entities(snapshot, options.controls):
        node = device_id(snapshot, entity.device, entity.ident, options.device_prefix)
        by_device[node].append(entity)
    result = {}
    for dev_id, members in by_device.items():
        first = members[0]
        result[discovery_device_topic(options.discovery_prefix, dev_id)] = {
            "dev": device_info(snapshot, first.device, first.ident, options.device_prefix),
            "o": origin(options),
            "cmps": {e.object_id: entity_config(e, snapshot, options) for e in members},
        }
    return result


def _component_mode(snapshot: Snapshot, options: DiscoveryOptions) -> dict[str, dict[str, Any]]:
    result = {}
    for entity in entities(snapshot, options.controls):
        config = entity_config(entity, snapshot, options)
        node = device_id(snapshot, entity.device, entity.ident, options.device_prefix)
        platform = config.pop("platform")
        topic = discovery_entity_topic(options.discovery_prefix, platform, node, entity.object_id)
        config["device"] = device_info(snapshot, entity.device, entity.ident, options.device_prefix)
        config["origin"] = origin(options)
        result[topic] = config
    return result


def discovery_payloads(
    snapshot: Snapshot, options: DiscoveryOptions | None = None
) -> dict[str, dict[str, Any]]:
    """Return discovery topic -> retained config for every entity of ``snapshot``."""
    opts = options or DiscoveryOptions()
    if opts.mode == "component":
        return _component_mode(snapshot, opts)
    return _device_mode(snapshot, opts)


def stale_discovery_topics(
    previous: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[str]:
    """Topics published before but not now: clear each with an empty retained payload."""
    return sorted(set(previous) - set(current))


def with_removed_components(
    previous: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Device-mode configs that also tell HA which components went away.

    HA removes a component of a device config when it is sent once with only its
    ``platform``; configs whose device vanished entirely are left to
    :func:`stale_discovery_topics`.
    """
    result = dict(current)
    for topic, config in current.items():
        old = previous.get(topic, {}).get("cmps")
        if not isinstance(old, dict) or "cmps" not in config:
            continue
        gone = {
            k: {"platform": v.get("platform")} for k, v in old.items() if k not in config["cmps"]
        }
        if gone:
            result[topic] = config | {"cmps": config["cmps"] | gone}
    return result
