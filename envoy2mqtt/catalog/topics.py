"""The topic grammar of the MQTT contract (docs: mqtt-contract.md): built and parsed here only.

State topics (``<base>/<sn>/<suffix>``), command and result topics
(``<base>/<sn>/<control path>/set|result``), the bridge's own topics and Home Assistant
discovery topics. The MQTT layer, the catalogue and the bridge all use this module.

Every level that comes from device data goes through :func:`sanitize_level`, so a serial or
an id can never inject ``+``, ``#`` or ``/`` into a topic. A control's path is its declared
``topic`` pattern (``dry_contacts/{id}/settings``), so parsing a ``/set`` topic yields the
control's *name* and nothing downstream looks at topic levels again.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from envoy2mqtt.catalog.controls import CONTROLS
from envoy2mqtt.catalog.naming import sanitize_topic_level

__all__ = [
    "SetTopic",
    "Topics",
    "control_for_path",
    "discovery_device_topic",
    "discovery_entity_topic",
    "is_valid_level",
    "sanitize_level",
    "state_suffix",
]

_VALID_LEVEL = re.compile(r"^[a-z0-9_-]+$")
_SET = "set"
_RESULT = "result"
_SETTINGS = "settings"
_OWNER = "owner"
_BRIDGE = "bridge"
# A serial can never be "bridge": that level holds the bridge's own topics.
_RESERVED_SERIALS = frozenset({_BRIDGE})


def is_valid_level(level: str) -> bool:
    """Whether ``level`` is already a contract-conforming topic level (``[a-z0-9_-]+``)."""
    return bool(_VALID_LEVEL.match(level))


def sanitize_level(value: str) -> str:
    """Turn arbitrary device text into one topic level (see ``sanitize_topic_level``)."""
    return sanitize_topic_level(value)


def _levels(path: str) -> list[str]:
    return [sanitize_level(level) for level in path.split("/")]


@functools.lru_cache(maxsize=8192)
def state_suffix(pattern: str, ident: str | None = None) -> str:
    """The sanitised suffix of a state topic pattern (``inverters/{id}``) for one device."""
    level = sanitize_level(ident) if ident is not None else ""
    return "/".join(sanitize_level(p) for p in pattern.format(id=level).split("/"))


def discovery_device_topic(prefix: str, device_id: str) -> str:
    """``<prefix>/device/<device_id>/config``: one device-based discovery config."""
    return f"{prefix}/device/{device_id}/config"


def discovery_entity_topic(prefix: str, platform: str, node: str, object_id: str) -> str:
    """``<prefix>/<platform>/<node>/<object_id>/config``: one per-entity discovery config."""
    return f"{prefix}/{platform}/{node}/{object_id}/config"


# Control path patterns as level lists: ("dry_contacts", "{id}", "settings") -> name.
_CONTROL_PATHS = {tuple(c.topic.split("/")): c.name for c in CONTROLS.values()}


def control_for_path(path: str) -> tuple[str, str | None]:
    """The (control name, device id) a path between ``<sn>/`` and ``/set`` addresses.

    A path matching a declared control pattern gives that control
    (``dry_contacts/nc1/settings`` -> ``("dry_contact_settings", "nc1")``); any other path
    gives its first level and the second as id, for the command parser to reject in words
    (``grid_relay/x`` -> "takes no id", ``fly`` -> "unknown control").
    """
    levels = path.strip("/").split("/")
    for pattern, name in _CONTROL_PATHS.items():
        if len(pattern) == len(levels) and all(
            p in ("{id}", level) for p, level in zip(pattern, levels, strict=True)
        ):
            return name, levels[pattern.index("{id}")] if "{id}" in pattern else None
    return levels[0], levels[1] if len(levels) > 1 else None


def _control_path(control: str, ident: str | None) -> str:
    spec = CONTROLS.get(control)
    if spec is not None:
        return state_suffix(spec.topic, ident if "{id}" in spec.topic else None)
    levels = [sanitize_level(control)] + ([] if ident is None else [sanitize_level(ident)])
    return "/".join(levels)


@dataclass(frozen=True, slots=True)
class SetTopic:
    """A parsed ``…/set`` topic.

    Attributes:
        serial: the serial level.
        control: the control's name (``dry_contact_settings``), or the first level when no
            declared control matches (the command parser rejects it in words).
        ident: the device id level, if any.
        path: the levels between ``<sn>/`` and ``/set`` as received (for the result topic).
    """

    serial: str
    control: str
    ident: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Topics:
    """Builders for every topic under one base topic (which may itself contain ``/``).

    With an ``instance`` name the bridge's own topics move one level down
    (``<base>/bridge/<instance>/state``) so that several instances share one base topic.
    """

    base: str = "envoy2mqtt"
    instance: str | None = None

    @property
    def bridge_root(self) -> str:
        """``<base>/bridge`` or ``<base>/bridge/<instance>``."""
        root = f"{self.base}/{_BRIDGE}"
        return root if self.instance is None else f"{root}/{self.instance}"

    @property
    def bridge_state(self) -> str:
        """``<base>/bridge[/<instance>]/state``: ``online``/``offline``, the Last Will topic."""
        return f"{self.bridge_root}/state"

    @property
    def bridge_info(self) -> str:
        """``<base>/bridge[/<instance>]/info``: retained JSON about the bridge and its Envoys."""
        return f"{self.bridge_root}/info"

    @property
    def bridge_health(self) -> str:
        """``<base>/bridge[/<instance>]/health``: periodic, non-retained health JSON."""
        return f"{self.bridge_root}/health"

    @property
    def bridge_sync(self) -> str:
        """``<base>/bridge/<instance>/sync``: non-retained marker, see ``bridge.ownership``."""
        return f"{self.bridge_root}/sync"

    def instance_state(self, instance: str) -> str:
        """``<base>/bridge/<instance>/state`` of any instance."""
        return f"{self.base}/{_BRIDGE}/{instance}/state"

    @property
    def instance_states_filter(self) -> str:
        """Subscription filter matching every instance's ``state`` topic."""
        return f"{self.base}/{_BRIDGE}/+/state"

    def parse_instance_state(self, topic: str) -> str | None:
        """The instance whose ``state`` topic ``topic`` is, or ``None``."""
        levels = self._below_base(topic)
        if levels is None or len(levels) != 3 or levels[0] != _BRIDGE or levels[2] != "state":
            return None
        return levels[1]

    def owner(self, serial: str) -> str:
        """``<base>/<sn>/owner``: retained name of the instance serving this Envoy."""
        return f"{self.device_prefix(serial)}/{_OWNER}"

    @property
    def owners_filter(self) -> str:
        """Subscription filter matching every Envoy's ``owner`` topic."""
        return f"{self.base}/+/{_OWNER}"

    def parse_owner(self, topic: str) -> str | None:
        """The serial level whose ``owner`` topic ``topic`` is, or ``None``."""
        levels = self._below_base(topic)
        if levels is None or len(levels) != 2 or levels[1] != _OWNER:
            return None
        return None if levels[0] in _RESERVED_SERIALS else levels[0]

    def _below_base(self, topic: str) -> list[str] | None:
        prefix = self.base + "/"
        return topic[len(prefix) :].split("/") if topic.startswith(prefix) else None

    def availability(self, serial: str) -> str:
        """``<base>/<sn>/availability``."""
        return f"{self.base}/{sanitize_level(serial)}/availability"

    def state(self, serial: str, suffix: str, ident: str | None = None) -> str:
        """``<base>/<sn>/<suffix>[/<id>]``; ``suffix`` may hold several levels (``meters/load``)."""
        levels = [sanitize_level(serial), *_levels(suffix)]
        if ident is not None:
            levels.append(sanitize_level(ident))
        return "/".join([self.base, *levels])

    def device_prefix(self, serial: str) -> str:
        """``<base>/<sn>``: the root of everything one Envoy publishes."""
        return f"{self.base}/{sanitize_level(serial)}"

    def command(self, serial: str, control: str, ident: str | None = None) -> str:
        """``<base>/<sn>/<control path>/set`` (path: the control's declared ``topic``)."""
        return f"{self.device_prefix(serial)}/{_control_path(control, ident)}/{_SET}"

    def result(self, serial: str, control: str, ident: str | None = None) -> str:
        """``<base>/<sn>/<control path>/result``: the command's answer."""
        return f"{self.device_prefix(serial)}/{_control_path(control, ident)}/{_RESULT}"

    def result_for(self, parsed: SetTopic) -> str:
        """The result topic answering the command topic ``parsed`` came from."""
        return f"{self.device_prefix(parsed.serial)}/{parsed.path}/{_RESULT}"

    def command_filters(self, serial: str | None = None) -> tuple[str, ...]:
        """Subscription filters covering every ``/set`` topic (of one Envoy when ``serial``)."""
        sn = "+" if serial is None else sanitize_level(serial)
        return (
            f"{self.base}/{sn}/+/{_SET}",
            f"{self.base}/{sn}/+/+/{_SET}",
            f"{self.base}/{sn}/+/+/{_SETTINGS}/{_SET}",
        )

    def parse_command(self, topic: str) -> SetTopic | None:
        """Parse a ``/set`` topic under this base; ``None`` for anything else.

        Levels must already be contract-conforming (we never guess what a malformed topic
        meant: acting on the wrong device would be worse than not acting).
        """
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            return None
        levels = topic[len(prefix) :].split("/")
        if len(levels) < 3 or levels[-1] != _SET:
            return None
        if not all(is_valid_level(level) for level in levels) or levels[0] in _RESERVED_SERIALS:
            return None
        serial, *rest = levels[:-1]
        if (len(rest) == 3 and rest[2] != _SETTINGS) or len(rest) > 3:
            return None
        path = "/".join(rest)
        control, ident = control_for_path(path)
        return SetTopic(serial, control, ident, path)
