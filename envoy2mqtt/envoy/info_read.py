"""Reading ``/info``: HTTPS first, HTTP when HTTPS cannot connect, retried with backoff.

The answer identifies the Envoy (firmware, serial); a serial other than the configured one
means the host is another gateway (:class:`EnvoySerialMismatch`).

Legacy firmware serves no HTTPS, so the scheme that answered ``/info`` is the one data is
read with afterwards (stored on the transport).
"""

from __future__ import annotations

import logging

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from envoy2mqtt.envoy.errors import EnvoyCommunicationError, EnvoyFirmwareError
from envoy2mqtt.envoy.firmware import EnvoyInfo, parse_info
from envoy2mqtt.envoy.transport import (
    NO_RETRY,
    FullResponse,
    HttpTransport,
    RetryBudget,
    scoped_budget,
)

__all__ = ["EnvoySerialMismatch", "check_serial", "fetch_info", "read_info"]

_LOGGER = logging.getLogger(__name__)


class EnvoySerialMismatch(EnvoyFirmwareError):
    """The host answered with another serial than the configured one (e.g. a DHCP swap)."""


def check_serial(host: str, configured: str | None, info: EnvoyInfo) -> None:
    """Raise :class:`EnvoySerialMismatch` if ``info`` is not the configured gateway."""
    if configured and info.serial != configured:
        msg = f"host {host} is Envoy {info.serial or '?'}, but serial {configured} is configured"
        raise EnvoySerialMismatch(msg)


async def read_info(transport: HttpTransport, budget: RetryBudget) -> EnvoyInfo:
    """Read and parse ``/info`` (see :func:`fetch_info`).

    Raises:
        EnvoyFirmwareError: ``/info`` answered other than 200 or is unreadable.
        EnvoyCommunicationError: no scheme answered within the budget.
    """
    full = await fetch_info(transport, budget)
    if full.response.status != 200:
        msg = f"/info answered HTTP {full.response.status}"
        raise EnvoyFirmwareError(msg)
    info = parse_info(full.response.body)
    _LOGGER.info(
        "envoy identified host=%s serial=%s firmware=%s scheme=%s",
        transport.host,
        info.serial,
        info.firmware,
        transport.scheme,
    )
    return info


async def fetch_info(transport: HttpTransport, budget: RetryBudget) -> FullResponse:
    """``GET /info`` with the scheme fallback, retried on transport errors only.

    ``budget`` applies unless the caller set a scoped budget (``transport.budget_scope``).

    Raises:
        EnvoyCommunicationError: no scheme answered within the budget.
    """
    forced = transport.forced_scheme
    schemes = [forced] if forced else ["https", "http"]
    plan = scoped_budget() or budget
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(plan.attempts, 1)) | stop_after_delay(plan.seconds),
        wait=wait_random_exponential(multiplier=plan.multiplier, max=plan.max_wait),
        retry=retry_if_exception_type(EnvoyCommunicationError),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await _info_once(transport, schemes)
    raise AssertionError("tenacity returned without result")  # pragma: no cover


async def _info_once(transport: HttpTransport, schemes: list[str]) -> FullResponse:
    first_error: EnvoyCommunicationError | None = None
    for scheme in schemes:
        try:
            full = await transport.request_full(
                "GET", "/info", scheme=scheme, budget=NO_RETRY, raise_on_auth=False
            )
        except EnvoyCommunicationError as exc:
            _LOGGER.debug("info failed host=%s scheme=%s error=%s", transport.host, scheme, exc)
            first_error = first_error or exc
            continue
        if first_error is not None and 300 <= full.response.status < 400:
            # token firmware redirects plain HTTP to HTTPS: HTTPS is the real (failing) path
            raise first_error
        # legacy firmware has no HTTPS: data goes to whichever scheme answered
        transport.scheme = scheme
        return full
    assert first_error is not None
    raise first_error
