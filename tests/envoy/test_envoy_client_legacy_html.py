"""3.7.0 over real sockets: the client reads production from the legacy HTML page.

pyenphase gives up on this Envoy (its golden records EnvoyProbeFailed); the in-memory golden
test proves the parsing, this one proves the whole path — digest auth over HTTP, probing,
the HTML updater — against the simulator as the device served it.
"""

from __future__ import annotations

from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.export import export_state
from envoy2mqtt.envoy.transport import RetryBudget

FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)


async def test_3_7_0_production_from_html_over_http(envoy_simulator) -> None:
    sim = await envoy_simulator("3.7.0")
    client = EnvoyClient(f"127.0.0.1:{sim.port}", budget=FAST, info_budget=FAST)
    try:
        await client.setup()
        result = await client.update()
        ours = export_state(client.info, client.probe_result, client.data)
    finally:
        await client.close()
    assert not result.failed
    assert client.auth_mode == "digest"
    assert client.transport.scheme == "http"
    assert ours["supported_features"] == ["PRODUCTION"]
    assert ours["data"]["system_production"] == {
        "watts_now": 6630,
        "watt_hours_today": 53600,
        "watt_hours_last_7_days": 405000,
        "watt_hours_lifetime": 133000000,
    }
    production_reads = sim.requests.entries(method="GET", path="/production")
    assert production_reads, "the HTML production page was never requested"
