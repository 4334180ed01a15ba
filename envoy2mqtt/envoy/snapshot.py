"""What an Envoy client hands on after each call: one immutable, fully typed snapshot.

The client reads into one working :class:`~envoy2mqtt.envoy.models.data.EnvoyData`; every
snapshot holds its own shallow copy of it. Updaters never mutate a value they stored, they
assign new ones (``updaters/base.py``), so a snapshot's data stays as it was when it was
taken while the next poll fills the working object (about a microsecond per copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import msgspec

from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.envoy.home import EnvoyHome
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.probe import ProbeResult

__all__ = ["EnvoySnapshot", "UpdateResult", "WriteResult"]


class EnvoySnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One Envoy as its client knew it at one moment.

    Attributes:
        seq: increases with every snapshot of one client (the larger one is newer).
        info: ``/info`` (firmware, serial, part number, the gateway's clock).
        probe: what the last probe found (features, meters, phases, active groups).
        data: the data read so far (groups that failed keep their previous values).
        home: ``/home`` as read after the probe, None when not served.
        clock_offset: the gateway's clock minus ours in seconds (last ``/info``).
        auth_mode: ``digest`` or ``token``.
        token_type: ``owner``/``installer`` for token auth, else None.
        token_expires_at: expiry of the token in use, epoch seconds (None for digest).
    """

    seq: int
    info: EnvoyInfo
    probe: ProbeResult
    data: EnvoyData
    home: EnvoyHome | None = None
    clock_offset: float = 0.0
    auth_mode: str | None = None
    token_type: str | None = None
    token_expires_at: float | None = None

    @property
    def serial(self) -> str:
        """The gateway serial from ``/info``."""
        return self.info.serial


@dataclass(slots=True)
class UpdateResult:
    """Outcome of one ``EnvoyClient.update``.

    Attributes:
        snapshot: the client's state after the read.
        ok: groups read successfully.
        failed: group -> error for the groups that could not be read.
    """

    snapshot: EnvoySnapshot
    ok: set[str] = field(default_factory=set)
    failed: Mapping[str, EnvoyError] = field(default_factory=dict)

    @property
    def data(self) -> EnvoyData:
        """The snapshot's data (failed groups keep their previous values)."""
        return self.snapshot.data


@dataclass(slots=True)
class WriteResult:
    """Outcome of one ``EnvoyClient.execute``.

    Attributes:
        groups: the data groups the write affects (re-read before this was returned).
        snapshot: the client's state after that re-read.
    """

    groups: set[str]
    snapshot: EnvoySnapshot
