"""Building blocks shared by the command modules: the request value and common checks."""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Protocol

import msgspec
from msgspec import Meta

from envoy2mqtt.envoy.errors import EnvoyCommandRejected, EnvoyFeatureNotAvailable
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.groups import DataGroup
from envoy2mqtt.envoy.json_terms import json_term

Percent = Annotated[int, Meta(ge=0, le=100)]
"""A whole percentage (a command field's value rule)."""


class ProbeLike(Protocol):
    """Anything that knows which features the Envoy offers (e.g. the probe result)."""

    @property
    def features(self) -> SupportedFeatures:
        """Feature flags found by probing."""
        ...


class WriteRequest(msgspec.Struct, frozen=True):
    """The exact request a command turns into, and the data group to re-read after it."""

    method: str
    path: str
    body: dict[str, Any]
    reread: DataGroup


def require_features(probe: ProbeLike, needed: SupportedFeatures, action: str) -> None:
    """Raise :class:`EnvoyFeatureNotAvailable` naming every flag of ``needed`` that is missing."""
    missing = [flag for flag in needed if not probe.features & flag]
    if missing:
        names = ", ".join(flag.name or str(int(flag)) for flag in missing)
        msg = f"{action} is not available on this Envoy (needs {names})"
        raise EnvoyFeatureNotAvailable(msg)


def require_known(key: object, known: Mapping[str, Any], what: str) -> str:
    """Return ``key`` if it names an entry of ``known`` (exact match), else reject it."""
    if not isinstance(key, str) or key not in known:
        ids = ", ".join(sorted(known)) or "none"
        msg = f"unknown {what} {json_term(key)} (known: {ids})"
        raise EnvoyCommandRejected(msg)
    return key


@functools.cache
def _titled_fields(command: type[msgspec.Struct]) -> tuple[tuple[str, Any, str, str], ...]:
    """(field, annotation, title, rule in words) of every titled field of ``command``."""
    hints = typing.get_type_hints(command, include_extras=True)
    struct = msgspec.inspect.type_info(command)
    assert isinstance(struct, msgspec.inspect.StructType)
    result = []
    for field in struct.fields:
        info = field.type
        if not isinstance(info, msgspec.inspect.Metadata) or not info.extra_json_schema:
            continue
        title = str(info.extra_json_schema["title"])
        result.append((field.name, hints[field.name], title, _rule(info.type)))
    return tuple(result)


def _rule(info: msgspec.inspect.Type) -> str:
    if isinstance(info, msgspec.inspect.BoolType):
        return "a boolean"
    if isinstance(info, msgspec.inspect.IntType):
        return f"an integer {info.ge}-{info.le}"
    if isinstance(info, msgspec.inspect.LiteralType):
        return "one of " + "|".join(sorted(str(v) for v in info.values))
    raise TypeError(f"no wording for {info!r}")  # caught by the tests at import of a command


def check_fields(command: msgspec.Struct) -> None:
    """Check every titled field of ``command`` against its own annotation (type, range, words).

    The annotations in :mod:`~envoy2mqtt.envoy.command_types` are the value rules; this is
    the client's defence against callers outside the type checker.

    Raises:
        EnvoyCommandRejected: ``<title> must be <rule>, got <value>``.
    """
    for name, annotation, title, rule in _titled_fields(type(command)):
        value = getattr(command, name)
        try:
            msgspec.convert(value, annotation, strict=True)
        except msgspec.ValidationError:
            raise EnvoyCommandRejected(f"{title} must be {rule}, got {json_term(value)}") from None
