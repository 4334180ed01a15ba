"""Helpers for the HttpTransport and EnvoyClient tests: a bearer-token auth stand-in,
timeout counting, a client that logs in with the simulator's owner account."""

from __future__ import annotations

from typing import Any

import pytest

from envoy2mqtt.envoy.auth.enlighten import EnlightenClient
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.simulator.server import EnvoySimulator

FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)
OWNER, OWNER_PASSWORD = "owner@example.com", "owner-password"  # the simulator's fake account


class BearerAuth:
    """The smallest ``RequestAuth``: a fixed bearer token; remembers the cookies it gets."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.cookies: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def middlewares(self) -> tuple[()]:
        return ()

    def remember_cookies(self, cookies: dict[str, str]) -> None:
        self.cookies.update(cookies)


def timed_out_attempts(caplog: pytest.LogCaptureFixture, method: str, path: str) -> int:
    """Attempts the transport made that ended in its timeout (one debug line each).

    Counted at the transport, not at the server: under CPU load an attempt's timeout can
    run out before its request has reached the server's handler.
    """
    line = f"http method={method} path={path} error=timeout "
    return sum(r.getMessage().startswith(line) for r in caplog.records)


def sim_enlighten(sim: EnvoySimulator) -> EnlightenClient:
    """The simulator's own Enlighten, over its HTTPS, trusting the simulator's CA."""
    return EnlightenClient(
        f"{sim.url}/login/login.json",
        f"{sim.url}/tokens",
        ssl_context=sim.client_ssl_context(),
        budget=FAST,
    )


def owner_client(host: str, **options: Any) -> EnvoyClient:
    """An EnvoyClient for ``host`` that gets its token with the owner's Enlighten login."""
    return EnvoyClient(
        host,
        username=OWNER,
        password=OWNER_PASSWORD,
        budget=FAST,
        info_budget=FAST,
        **options,
    )
