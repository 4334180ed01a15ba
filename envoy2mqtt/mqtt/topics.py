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
# A serial can never be "bridge": that level holds the bridge's own topics.
_RESERVED_SERIALS = frozenset({"bridge"})


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
    """Builders for every topic under one base topic (which may itself contain ``/``)."""

    base: str = "envoy2mqtt"

    @property
    def bridge_state(self) -> str:
        """``<base>/bridge/state``: ``online``/``offline``, the Last Will topic."""
        return f"{self.base}/bridge/state"

    @property
    def bridge_info(self) -> str:
        """``<base>/bridge/info``: retained JSON about the bridge and its Envoys."""
        return f"{self.base}/bridge/info"

    @property
    def bridge_health(self) -> str:
        """``<base>/bridge/health``: periodic, non-retained health JSON."""
        return f"{self.base}/bridge/health"

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

    def command_filters(self) -> tuple[str, ...]:
        """Subscription filters that cover every ``/set`` topic of the contract."""
        return (
            f"{self.base}/+/+/{_SET}",
            f"{self.base}/+/+/+/{_SET}",
            f"{self.base}/+/+/+/{_SETTINGS}/{_SET}",
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
