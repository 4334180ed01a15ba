"""How one poll's outcome is judged: retry budgets, failure kinds, re-reads after 5xx.

Pure rules plus the one re-read loop; the worker applies them to its availability and its
stale groups.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from envoy2mqtt.bridge.poll_budget import PollBudget
from envoy2mqtt.bridge.schedule import FailureKind, Tier, fastest_data_tier
from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationError,
    EnvoyAuthenticationRequired,
    EnvoyCommunicationError,
    EnvoyHTTPStatusError,
)
from envoy2mqtt.envoy.snapshot import UpdateResult
from envoy2mqtt.envoy.transport import RetryBudget

_LOGGER = logging.getLogger(__name__)

Update = Callable[[Sequence[str], RetryBudget | None], Awaitable[UpdateResult]]
"""Reads some groups within a retry budget (the worker's ``_update``)."""


def retry_budget(tier: Tier) -> RetryBudget:
    """Transport retries that fit in the tier's time budget (the timeout is the hard cap)."""
    return RetryBudget(attempts=3, seconds=tier.budget * 0.75, max_wait=max(tier.budget / 4, 0.25))


def classify(error: BaseException) -> FailureKind | None:
    """Map a whole-poll error to a failure kind (None: neither unreachable nor auth)."""
    if isinstance(error, EnvoyAuthenticationError | EnvoyAuthenticationRequired):
        return FailureKind.AUTH
    if isinstance(error, EnvoyCommunicationError | TimeoutError | OSError):
        return FailureKind.UNREACHABLE
    return None


#: First pause before re-reading groups that answered 5xx; doubles per retry.
SERVER_ERROR_PAUSE = 0.2
#: Time kept free at the end of a tier's budget: a re-read cut off by the tier's timeout
#: would discard the groups that had already been read.
_BUDGET_MARGIN = 0.5


def server_error(error: BaseException) -> bool:
    """Whether ``error`` is an HTTP 5xx answer (worth re-reading within the poll's budget)."""
    return (
        isinstance(error, EnvoyHTTPStatusError)
        and not isinstance(error, EnvoyAuthenticationRequired)
        and error.status >= 500
    )


def _outcome(result: UpdateResult) -> tuple[set[str], dict[str, BaseException]]:
    return set(result.ok), dict(result.failed)


def describe(error: BaseException) -> str:
    """A short, secret-free text for logs and ``bridge/info`` (errors never carry secrets)."""
    text = str(error) or type(error).__name__
    if isinstance(error, TimeoutError) and not str(error):
        text = "timed out"
    return f"{type(error).__name__}: {text}"


def failure_kind(exc: BaseException) -> FailureKind:
    return classify(exc) or FailureKind.UNREACHABLE


def warn_if_grace_too_short(host: str, tiers: Iterable[Tier], grace: float) -> None:
    # Settings only know the fast interval; an Envoy without fast-tier data (no meters,
    # no livedata) polls its data at the normal interval and would flap between polls.
    fastest = fastest_data_tier(tiers)
    if fastest is not None and grace <= fastest.interval:
        _LOGGER.warning(
            "availability grace too short host=%s grace=%gs fastest_data_tier=%s interval=%gs "
            "effect=offline between polls",
            host,
            grace,
            fastest.name,
            fastest.interval,
        )


async def reread_server_errors(
    update: Update,
    failed: dict[str, BaseException],
    deadline: PollBudget,
    retries: RetryBudget | None,
) -> tuple[set[str], dict[str, BaseException]]:
    """Re-read groups that answered 5xx while the tier's budget allows; (recovered, failed).

    ``deadline`` is the tier's budget (its clock stops while the poll publishes).
    """
    recovered: set[str] = set()
    pause = SERVER_ERROR_PAUSE
    while again := [g for g, e in failed.items() if server_error(e)]:
        if deadline.remaining() < pause + 2 * _BUDGET_MARGIN:
            break
        await asyncio.sleep(pause)
        pause *= 2
        try:
            async with asyncio.timeout(deadline.remaining() - _BUDGET_MARGIN):
                result = await update(again, retries)
        except TimeoutError:
            break
        ok, still = set(result.ok), dict(result.failed)
        recovered |= ok
        failed = {g: e for g, e in failed.items() if g not in ok} | still
    return recovered, failed
