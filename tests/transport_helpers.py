"""Helpers for the HttpTransport tests: a bearer-token auth stand-in, timeout counting."""

from __future__ import annotations

import pytest


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
