"""Several bridge instances on one base topic: instance names and the ``shard: i/n`` rule.

The shard of an Envoy is a stable hash, the same in every Python process and release
(Python's own ``hash()`` is randomised per process and must not be used)::

    key   = (configured serial, else the configured host string) stripped and lowercased
    shard = int.from_bytes(sha256(key.encode("utf-8")).digest()[:8], "big") % n + 1

Shards are numbered ``1..n``. The serial is used when it is configured because it never
changes (a DHCP change or adding ``https://`` to ``host`` would move an Envoy configured by
host alone to another shard); the host is used otherwise because a serial read from
``/info`` is only known after contacting the Envoy, and an instance must not contact Envoys
of other shards.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "INSTANCE_PATTERN",
    "RESERVED_INSTANCES",
    "Shard",
    "instance_problem",
    "shard_key",
    "shard_of",
]

#: A topic-safe word: lowercase letters, digits, ``_`` and ``-``, starting with a letter or
#: digit, at most 32 characters.
INSTANCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
#: Names that would read like the instance-less bridge topics (``<base>/bridge/state`` …).
RESERVED_INSTANCES = frozenset({"state", "info", "health", "scan"})
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

T = TypeVar("T")


def instance_problem(name: str) -> str | None:
    """Why ``name`` cannot be an instance name, or ``None`` when it can."""
    if not INSTANCE_PATTERN.match(name):
        return "must be 1-32 of a-z 0-9 _ - starting with a letter or digit"
    if name in RESERVED_INSTANCES:
        return f"'{name}' is reserved ({', '.join(sorted(RESERVED_INSTANCES))})"
    return None


def shard_key(serial: str | None, host: str) -> str:
    """The text an Envoy's shard is computed from (see the module docstring)."""
    return (serial or host).strip().lower()


def shard_of(key: str, count: int) -> int:
    """The shard (``1..count``) of ``key``; stable across processes and versions."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True, slots=True)
class Shard:
    """``index`` of ``count`` (1-based), written ``index/count`` in the configuration."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse ``"2/5"``.

        Raises:
            ValueError: not ``i/n`` with ``1 <= i <= n``.
        """
        match = _SHARD.match(text)
        if match is None:
            raise ValueError("must be 'i/n' with whole numbers, e.g. '2/5'")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise ValueError("needs 1 <= i <= n")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def serves(self, serial: str | None, host: str) -> bool:
        """Whether the Envoy with this configured serial and host belongs to this shard."""
        return shard_of(shard_key(serial, host), self.count) == self.index

    def select(self, items: Sequence[T], keys: Iterable[tuple[str | None, str]]) -> list[T]:
        """The ``items`` whose (serial, host) key belongs to this shard, in order."""
        return [
            item
            for item, (serial, host) in zip(items, keys, strict=True)
            if self.serves(serial, host)
        ]
