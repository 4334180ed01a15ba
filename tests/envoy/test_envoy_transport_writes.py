"""Writes are sent exactly once: a dropped connection fails the write instead of repeating it."""

from __future__ import annotations

import pytest

from envoy2mqtt.envoy.errors import EnvoyCommunicationError
from envoy2mqtt.envoy.transport import HttpTransport, RetryBudget
from envoy2mqtt.simulator.faults import Fault, FaultKind
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import StartSimulator
from tests.transport_helpers import BearerAuth

# Generous attempts and no real backoff: any retry would show up as a second request.
FAST = RetryBudget(attempts=4, seconds=10.0, max_wait=0.01, multiplier=0.001)
PATH = "/ivp/ss/dry_contact_settings"


async def _dropping_first(envoy_simulator: StartSimulator) -> EnvoySimulator:
    """A plain-HTTP token-firmware Envoy whose first request for ``PATH`` is dropped unanswered."""
    sim = await envoy_simulator(tls=False)
    await sim.inject(Fault(FaultKind.OUTAGE, path=PATH, count=1))
    return sim


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_write_is_sent_once_when_the_connection_drops(
    envoy_simulator: StartSimulator, method: str
) -> None:
    sim = await _dropping_first(envoy_simulator)
    transport = HttpTransport(sim.url, budget=FAST)
    with pytest.raises(EnvoyCommunicationError) as caught:
        await transport.request(method, PATH, body=b'{"dry_contacts": {}}')
    await transport.close()
    assert [(e.method, e.path, e.status) for e in sim.requests.entries()] == [(method, PATH, 0)]
    assert str(caught.value) == (
        f"{method} {sim.url}{PATH} failed: connection lost during {method}: "
        "the server closed the connection without answering"
    )


async def test_read_on_the_same_server_is_retried(envoy_simulator: StartSimulator) -> None:
    # Control case: the same dropped connection on a GET is retried and answered.
    sim = await _dropping_first(envoy_simulator)
    transport = HttpTransport(sim.url, budget=FAST)
    transport.auth = BearerAuth(sim.issue_token())
    response = await transport.request("GET", PATH)
    await transport.close()
    assert response.status == 200
    assert [(e.method, e.status) for e in sim.requests.entries()] == [("GET", 0), ("GET", 200)]
