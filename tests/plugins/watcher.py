"""``watcher``: a started :class:`~tests.bridge_helpers.Watcher` on the test's mosquitto.

It subscribes to ``#`` before the test body runs and is stopped when the test ends, so a
test sees everything the bridge publishes, as ``mosquitto_sub -v -t '#'`` would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto


@pytest.fixture
async def watcher(mosquitto: Mosquitto) -> AsyncIterator[Watcher]:
    """A recording subscriber to ``#`` on ``mosquitto``."""
    started = Watcher(mosquitto.host, mosquitto.port)
    await started.start()
    yield started
    await started.stop()
