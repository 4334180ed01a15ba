"""``bridge_stack``: a real mosquitto, a watcher on ``#`` and simulated Envoys for one test.

Usage::

    async def test_x(bridge_stack: BridgeStack) -> None:
        sim = await bridge_stack.sim()                       # 8.3.5169_with_generator
        async with bridge_stack.bridge(sim) as bridge:       # bridge_settings + running_bridge
            await bridge_stack.watcher.wait(lambda w: ...)

``bridge_stack.settings(sim, **overrides)`` builds the settings when a test changes them
first (``await bridge_stack.enlighten_settings(sim)`` for a login through Enlighten), and
``bridge_stack.bridge(settings)`` runs a bridge with those. Broker, watcher and simulators
are stopped when the test ends; the bridge when its ``async with`` block ends.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import TOKEN_FIXTURE, StartSimulator
from tests.reliability_helpers import enlighten_for, enlighten_settings


@dataclass
class BridgeStack:
    """Broker, watcher and a simulator factory; builds settings and runs bridges on them."""

    mosquitto: Mosquitto
    watcher: Watcher
    start_simulator: StartSimulator
    tmp_path: Path

    async def sim(self, fixture: str = TOKEN_FIXTURE, **options: Any) -> EnvoySimulator:
        """A started simulator of ``fixture`` (stopped when the test ends)."""
        return await self.start_simulator(fixture, **options)

    def settings(self, *sims: EnvoySimulator, **overrides: Any) -> Settings:
        """Bridge settings for ``sims`` on this broker (see ``bridge_settings``)."""
        return bridge_settings(self.mosquitto.port, list(sims), self.tmp_path, **overrides)

    def bridge(
        self, *target: EnvoySimulator | Settings, **kw: Any
    ) -> AbstractAsyncContextManager[Bridge]:
        """Run a bridge on ``settings``, or on default settings for the given simulators."""
        settings = target[0] if len(target) == 1 and isinstance(target[0], Settings) else None
        if settings is None:
            sims = [t for t in target if isinstance(t, EnvoySimulator)]
            settings = self.settings(*sims)
        return running_bridge(settings, **kw)

    async def enlighten_settings(
        self,
        sim: EnvoySimulator,
        fixture: str = TOKEN_FIXTURE,
        intervals: dict[str, float] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Settings that log ``sim`` in through its fake Enlighten (served for ``fixture``)."""
        cloud = await enlighten_for(self.start_simulator, fixture, sim)
        return enlighten_settings(
            self.mosquitto.port, sim, cloud, self.tmp_path, intervals, **overrides
        )


@pytest.fixture
async def bridge_stack(
    mosquitto: Mosquitto, watcher: Watcher, envoy_simulator: StartSimulator, tmp_path: Path
) -> BridgeStack:
    """A :class:`BridgeStack` on this test's broker, watcher and simulator factory."""
    return BridgeStack(mosquitto, watcher, envoy_simulator, tmp_path)
