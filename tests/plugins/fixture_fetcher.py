"""An in-memory :class:`Fetcher` over a captured fixture directory (no sockets).

``FixtureFetcher`` answers like the captured Envoy did and raises
``EnvoyAuthenticationRequired`` for 401/403, exactly like the real transport. Tests can
override single paths (a different body/status, or an exception) to inject faults.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from envoy2mqtt.envoy.errors import EnvoyAuthenticationRequired
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


def fixture_dirs() -> list[Path]:
    """Return every fixture directory (those holding an ``info`` capture), sorted."""
    return sorted(p for p in FIXTURES_DIR.iterdir() if (p / "info").is_file())


class FixtureFetcher:
    """Serves GET requests from a :class:`FixtureStore`; records every requested path."""

    def __init__(self, store: FixtureStore) -> None:
        """Serve ``store``; unknown paths answer 404."""
        self.store = store
        self.requests: list[str] = []
        self.overrides: dict[str, Response | Exception] = {}

    def override(self, path: str, outcome: Response | Exception | bytes) -> None:
        """Answer ``path`` with ``outcome`` from now on (bytes mean a 200 with that body)."""
        self.overrides[path] = (
            Response(status=200, body=outcome) if isinstance(outcome, bytes) else outcome
        )

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        """Answer one request like the transport: 401/403 raise, other statuses return."""
        self.requests.append(path)
        outcome = self.overrides.get(path)
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is None:
            stored = self.store.lookup(path) if method == "GET" else None
            if stored is None:
                outcome = Response(status=404, body=b"", content_type="text/html")
            else:
                outcome = Response(
                    status=stored.status, body=stored.body, content_type=stored.content_type
                )
        if outcome.status in (401, 403):
            raise EnvoyAuthenticationRequired(outcome.status, path)
        return outcome


@pytest.fixture
def fixture_fetcher() -> Callable[..., FixtureFetcher]:
    """Return a factory: ``fixture_fetcher("8.3.1598_collar", mode=FixtureMode.GOLDEN)``."""

    def make(name: str | Path, mode: FixtureMode = FixtureMode.GOLDEN) -> FixtureFetcher:
        directory = name if isinstance(name, Path) else FIXTURES_DIR / name
        return FixtureFetcher(FixtureStore(directory, mode))

    return make
