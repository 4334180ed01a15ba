"""The simulator's record of every request it received, for test assertions."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 10_000


@dataclass
class LoggedRequest:
    """One request: ``status`` is None while it is being handled (or hangs).

    ``body`` is the decoded JSON request body (form fields as a dict, secrets masked), the
    raw text if it was not JSON, or None if there was none. ``user`` is the Digest user a
    protected request authenticated as (legacy firmware); None for any other request.
    """

    method: str
    path: str
    query: str
    body: Any = None
    status: int | None = None
    user: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the entry as a JSON-able dict."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "body": self.body,
            "user": self.user,
        }


Predicate = Callable[[LoggedRequest], bool]


class RequestLog:
    """Bounded list of requests with awaitable conditions (no sleeping in tests)."""

    def __init__(self) -> None:
        """Start empty."""
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        """Number of logged requests."""
        return len(self._entries)

    def add(self, entry: LoggedRequest) -> LoggedRequest:
        """Record a request that has just arrived."""
        self._entries.append(entry)
        self.notify()
        return entry

    def notify(self) -> None:
        """Wake everybody waiting in :meth:`wait_for` (an entry was added or finished)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def entries(self, *, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Return the entries, optionally only those with this method and/or path."""
        return [
            e
            for e in self._entries
            if (method is None or e.method == method) and (path is None or e.path == path)
        ]

    def writes(self) -> list[LoggedRequest]:
        """Return every non-GET request."""
        return [e for e in self._entries if e.method not in ("GET", "HEAD")]

    async def wait_for(self, predicate: Predicate, within: float = 5.0) -> LoggedRequest:
        """Wait until an entry satisfies ``predicate`` and return it (TimeoutError otherwise)."""

        async def _wait() -> LoggedRequest:
            while True:
                changed = self._changed
                for entry in list(self._entries):
                    if predicate(entry):
                        return entry
                await changed.wait()

        return await asyncio.wait_for(_wait(), within)
