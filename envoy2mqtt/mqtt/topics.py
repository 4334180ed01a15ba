"""Topic names of the MQTT contract (docs: mqtt-contract.md), built and parsed in one place.

Every level that comes from device data goes through :func:`sanitize_level`, so a serial or
an id can never inject ``+``, ``#`` or ``/`` into a topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envoy2mqtt.catalog.naming import sanitize_topic_level

__all__ = ["SetTopic", "Topics", "is_valid_level", "sanitize_level"]

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


@dataclass(frozen=True, slots=True)
class SetTopic:
    """A parsed ``…/set`` topic."""

    serial: str
    control: str
    ident: str | None
    is_settings: bool


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

    def state(self, serial: str, group: str, ident: str | None = None) -> str:
        """``<base>/<sn>/<group>[/<id>]``; ``group`` may hold several levels (``meters/load``)."""
        levels = [sanitize_level(serial), *_levels(group)]
        if ident is not None:
            levels.append(sanitize_level(ident))
        return "/".join([self.base, *levels])

    def device_prefix(self, serial: str) -> str:
        """``<base>/<sn>``: the root of everything one Envoy publishes."""
        return f"{self.base}/{sanitize_level(serial)}"

    def command(
        self, serial: str, control: str, ident: str | None = None, *, settings: bool = False
    ) -> str:
        """``<base>/<sn>/<control>[/<id>][/settings]/set``."""
        return self._control(serial, control, ident, settings=settings, leaf=_SET)

    def result(
        self, serial: str, control: str, ident: str | None = None, *, settings: bool = False
    ) -> str:
        """``<base>/<sn>/<control>[/<id>][/settings]/result``: the command's answer."""
        return self._control(serial, control, ident, settings=settings, leaf=_RESULT)

    def result_for(self, parsed: SetTopic) -> str:
        """The result topic answering the command topic ``parsed`` came from."""
        return self.result(parsed.serial, parsed.control, parsed.ident, settings=parsed.is_settings)

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
        serial, control, *rest = levels[:-1]
        if len(rest) == 2 and rest[1] == _SETTINGS:
            return SetTopic(serial, control, rest[0], is_settings=True)
        if len(rest) > 1:
            return None
        return SetTopic(serial, control, rest[0] if rest else None, is_settings=False)

    def _control(
        self, serial: str, control: str, ident: str | None, *, settings: bool, leaf: str
    ) -> str:
        levels = [sanitize_level(serial), sanitize_level(control)]
        if ident is not None:
            levels.append(sanitize_level(ident))
        if settings:
            levels.append(_SETTINGS)
        return "/".join([self.base, *levels, leaf])
