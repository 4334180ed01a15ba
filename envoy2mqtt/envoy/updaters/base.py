"""Shared machinery of the updaters: probe state, a caching body reader and the base class."""

from __future__ import annotations

import abc
import dataclasses
import logging
from typing import Any, ClassVar, TypeVar

import msgspec
from awesomeversion import AwesomeVersion

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyHTTPStatusError,
    EnvoyMalformedResponse,
)
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.fetch import Fetcher, Response
from envoy2mqtt.envoy.models.data import EnvoyData

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

GENERIC_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
"""Untyped JSON, for probe rules that look at raw keys."""


@dataclasses.dataclass(slots=True)
class ProbeState:
    """What updaters learn while probing and share with each other (and with update)."""

    version: AwesomeVersion
    imeter: bool
    phase_count: int = 1
    phase_mode: str | None = None
    ct_meter_count: int = 0
    meter_types: list[str] = dataclasses.field(default_factory=list)
    meter_eids: dict[int | str, str] = dataclasses.field(default_factory=dict)
    active_phase_count: int = 0
    production_endpoints: list[str] = dataclasses.field(default_factory=list)
    acb_count: int = 0
    # Firmware gates used on every update, evaluated once (version comparisons are slow).
    total_is_net_fw: bool = dataclasses.field(init=False)
    storage_zero_fw: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.total_is_net_fw = self.version >= endpoints.TOTAL_IS_NET_CONSUMPTION
        self.storage_zero_fw = self.version >= endpoints.STORAGE_CT_ONE_CHANNEL_ZERO


class Reader:
    """Reads endpoint bodies through a :class:`Fetcher`, once per path per probe/update call.

    Successful (2xx) bodies and their decoded forms are cached, so endpoints shared by several
    updaters are fetched and decoded only once.
    """

    def __init__(self, fetcher: Fetcher) -> None:
        """Wrap ``fetcher``; the cache lives as long as this reader."""
        self._fetcher = fetcher
        self._bodies: dict[str, bytes] = {}
        self._decoded: dict[tuple[str, msgspec.json.Decoder[Any]], Any] = {}

    async def body(self, path: str) -> bytes:
        """Return the body of ``GET path``.

        Raises:
            EnvoyHTTPStatusError: the status is not 2xx.
            EnvoyAuthenticationRequired: 401/403 (raised by the fetcher).
            EnvoyCommunicationError: transport failure (raised by the fetcher).
        """
        cached = self._bodies.get(path)
        if cached is not None:
            return cached
        return self._accept(path, await self._fetcher.request("GET", path))

    def _accept(self, path: str, response: Response) -> bytes:
        if not 200 <= response.status < 300:
            raise EnvoyHTTPStatusError(response.status, path)
        self._bodies[path] = body = response.body
        return body

    async def decode(self, path: str, decoder: msgspec.json.Decoder[T]) -> T:
        """Return the body of ``path`` decoded with ``decoder``.

        Raises:
            EnvoyMalformedResponse: the body is not JSON of the expected shape.
        """
        key = (path, decoder)
        decoded = self._decoded
        if key in decoded:
            value: T = decoded[key]
            return value
        body = self._bodies.get(path)
        if body is None:
            # Fetched here rather than through body(): one coroutine less per endpoint.
            body = self._accept(path, await self._fetcher.request("GET", path))
        try:
            result = decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise EnvoyMalformedResponse(path, str(err)) from err
        decoded[key] = result
        return result

    async def send(self, method: str, path: str, body: bytes | None = None) -> Response:
        """Send a request that is never cached (a write such as a stream keep-alive).

        Raises:
            EnvoyAuthenticationRequired: 401/403 (raised by the fetcher).
            EnvoyCommunicationError: transport failure (raised by the fetcher).
        """
        return await self._fetcher.request(method, path, body=body)

    async def generic(self, path: str) -> Any:
        """Return the body of ``path`` as untyped JSON (used where probing needs raw keys)."""
        return await self.decode(path, GENERIC_DECODER)


async def probe_fetch(
    reader: Reader, path: str, decoder: msgspec.json.Decoder[T], *, swallow_auth: bool
) -> T | None:
    """Fetch and decode ``path`` while probing; None means "endpoint not usable".

    A non-2xx status or an undecodable body disables the endpoint. A 401/403 does too when
    ``swallow_auth`` is set (firmware that answers 401 for endpoints the user can read);
    otherwise it propagates so that the caller re-authenticates.
    """
    try:
        return await reader.decode(path, decoder)
    except EnvoyAuthenticationRequired:
        if not swallow_auth:
            raise
        _LOGGER.debug("probe path=%s result=unauthorized-skipped", path)
        return None
    except (EnvoyHTTPStatusError, EnvoyMalformedResponse) as err:
        _LOGGER.debug("probe path=%s result=unavailable reason=%s", path, type(err).__name__)
        return None


def is_error_document(doc: Any) -> bool:
    """Return True for bodies that mean "nothing here": empty, or an ``error``/``err`` object."""
    if not doc:
        return True
    return isinstance(doc, dict) and ("error" in doc or "err" in doc)


class Updater(abc.ABC):
    """One data source: probes whether the Envoy offers it, then fills :class:`EnvoyData`.

    Attributes:
        group: the data group this updater belongs to.
        features: the features this updater claimed at probe time.
        mask: ``features`` as a plain int, for cheap tests on every update.
    """

    group: ClassVar[str]

    def __init__(self, state: ProbeState) -> None:
        """Create an updater sharing ``state`` with the others of the same probe."""
        self.state = state
        self.features = SupportedFeatures(0)
        self.mask = 0

    def freeze(self) -> None:
        """Called once probing is over: snapshot ``features`` into ``mask``."""
        self.mask = int(self.features)

    @abc.abstractmethod
    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Decide whether this updater is used.

        Args:
            reader: the probe-wide caching reader.
            found: features already claimed by earlier updaters (never claim them again).

        Returns:
            None when the updater is not used, else the (possibly empty) new features.
        """

    @abc.abstractmethod
    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fetch this updater's endpoints and write its fields into ``out``.

        Every value is built first and the fields are assigned together at the very end, so
        an error leaves ``out`` untouched; existing values in ``out`` are never mutated.
        Updaters that are alone in their group assign *every* field of the group (unclaimed
        ones get their defaults), so the collector can hand them the live data object. The
        production group (several updaters, a quality check) always runs on a scratch copy.

        Raises:
            EnvoyError: the group cannot be updated (``out`` is unchanged).
        """
