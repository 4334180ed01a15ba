"""Building blocks shared by the command modules: the request value and common checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from envoy2mqtt.envoy.errors import EnvoyCommandRejected, EnvoyFeatureNotAvailable
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.json_terms import json_term


class ProbeLike(Protocol):
    """Anything that knows which features the Envoy offers (e.g. the probe result)."""

    @property
    def features(self) -> SupportedFeatures:
        """Feature flags found by probing."""
        ...


class WriteRequest(msgspec.Struct, frozen=True):
    """The exact request a command turns into, and the data groups to re-read after it."""

    method: str
    path: str
    body: dict[str, Any]
    groups: frozenset[str]


def require_features(probe: ProbeLike, needed: SupportedFeatures, action: str) -> None:
    """Raise :class:`EnvoyFeatureNotAvailable` naming every flag of ``needed`` that is missing."""
    missing = [flag for flag in needed if not probe.features & flag]
    if missing:
        names = ", ".join(flag.name or str(int(flag)) for flag in missing)
        msg = f"{action} is not available on this Envoy (needs {names})"
        raise EnvoyFeatureNotAvailable(msg)


def require_bool(value: object, what: str) -> bool:
    """Return ``value`` if it is a real boolean, else raise :class:`EnvoyCommandRejected`."""
    if not isinstance(value, bool):
        msg = f"{what} must be a boolean, got {json_term(value)}"
        raise EnvoyCommandRejected(msg)
    return value


def require_known(key: object, known: Mapping[str, Any], what: str) -> str:
    """Return ``key`` if it names an entry of ``known`` (exact match), else reject it."""
    if not isinstance(key, str) or key not in known:
        ids = ", ".join(sorted(known)) or "none"
        msg = f"unknown {what} {json_term(key)} (known: {ids})"
        raise EnvoyCommandRejected(msg)
    return key
