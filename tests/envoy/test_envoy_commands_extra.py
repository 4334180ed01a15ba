"""Optional writes (AC Battery sleep/wake, generator mode): exact requests, rejections, e2e."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.commands_extra import SetAcbSleep, SetGeneratorMode, WakeAcb
from envoy2mqtt.envoy.errors import EnvoyCommandRejected, EnvoyFeatureNotAvailable
from envoy2mqtt.envoy.features import SupportedFeatures as F
from envoy2mqtt.envoy.transport import HttpTransport
from tests.envoy.test_envoy_commands_support import (
    BearerAuth,
    Probe,
    assert_nothing_sent,
    load_data,
    load_probe,
    recorder_and_fetcher,
)

ACB_FIXTURE = "8.3.5169_ACB_inventory"
GEN_FIXTURE = "8.3.5169_with_generator"
ACB_SERIAL = "121917000000"


def _setup(fixture: str) -> tuple[Probe, Any]:
    return load_probe(fixture), load_data(fixture)


def test_fixtures_carry_what_the_tests_need() -> None:
    probe, data = _setup(ACB_FIXTURE)
    assert F.ACB in probe.features
    assert data.acb_inventory is not None
    assert ACB_SERIAL in data.acb_inventory
    assert F.GENERATOR in load_probe(GEN_FIXTURE).features


@pytest.mark.parametrize(
    ("fixture", "command", "method", "path", "body", "groups"),
    [
        *[
            (
                ACB_FIXTURE,
                SetAcbSleep(serial=ACB_SERIAL, min_soc=low, max_soc=high),
                "PUT",
                "/admin/lib/acb_config",
                {
                    "acb_sleep": [
                        {"serial_num": ACB_SERIAL, "sleep_min_soc": low, "sleep_max_soc": high}
                    ]
                },
                {"acb_inventory"},
            )
            for low, high in ((20, 40), (50, 50))
        ],
        (
            ACB_FIXTURE,
            WakeAcb(serial=ACB_SERIAL),
            "DELETE",
            "/admin/lib/acb_config",
            {"acb_sleep": [{"serial_num": ACB_SERIAL}]},
            {"acb_inventory"},
        ),
        *[
            (
                GEN_FIXTURE,
                SetGeneratorMode(mode=mode),
                "POST",
                "/ivp/ss/gen_mode",
                {"gen_cmd": mode},
                {"generator"},
            )
            for mode in ("on", "off", "auto")
        ],
    ],
)
async def test_exact_request(fixture, command, method, path, body, groups) -> None:
    probe, data = _setup(fixture)
    before = msgspec.to_builtins(data)
    async with recorder_and_fetcher() as (server, fetcher):
        assert await commands.execute(fetcher, command, probe, data) == groups
    [sent] = server.requests
    assert (sent.method, sent.path, sent.json()) == (method, path, body)
    assert msgspec.to_builtins(data) == before


@pytest.mark.parametrize(
    ("fixture", "probe", "command", "error", "fragment"),
    [
        (ACB_FIXTURE, Probe(features=F.PRODUCTION), WakeAcb(serial=ACB_SERIAL),
         EnvoyFeatureNotAvailable, "needs ACB"),
        (ACB_FIXTURE, Probe(features=F.PRODUCTION), SetAcbSleep(serial=ACB_SERIAL, min_soc=1,
         max_soc=2), EnvoyFeatureNotAvailable, "needs ACB"),
        (GEN_FIXTURE, Probe(features=F.ENPOWER), SetGeneratorMode(mode="on"),
         EnvoyFeatureNotAvailable, "needs GENERATOR"),
        (ACB_FIXTURE, None, WakeAcb(serial="999"), EnvoyCommandRejected,
         'unknown AC Battery serial "999"'),
        (ACB_FIXTURE, None, SetAcbSleep(serial=ACB_SERIAL, min_soc=41, max_soc=40),
         EnvoyCommandRejected, "min_soc (41) must not exceed max_soc (40)"),
        (ACB_FIXTURE, None, SetAcbSleep(serial=ACB_SERIAL, min_soc=-1, max_soc=40),
         EnvoyCommandRejected, "sleep min_soc must be an integer 0-100"),
        (ACB_FIXTURE, None, SetAcbSleep(serial=ACB_SERIAL, min_soc=10, max_soc=101),
         EnvoyCommandRejected, "sleep max_soc must be an integer 0-100"),
        (ACB_FIXTURE, None, SetAcbSleep(serial=ACB_SERIAL, min_soc=10.5, max_soc=20),
         EnvoyCommandRejected, "sleep min_soc must be an integer"),
        (ACB_FIXTURE, None, SetAcbSleep(serial=ACB_SERIAL, min_soc=True, max_soc=20),
         EnvoyCommandRejected, "sleep min_soc must be an integer"),
        (GEN_FIXTURE, None, SetGeneratorMode(mode="ON"), EnvoyCommandRejected,
         "generator mode must be one of auto|off|on"),
        (GEN_FIXTURE, None, SetGeneratorMode(mode=None), EnvoyCommandRejected,
         "generator mode must be one of"),
        # An Envoy whose ACB inventory was not read knows no serials at all.
        ("8.2.4382_ACB", None, WakeAcb(serial=ACB_SERIAL), EnvoyCommandRejected, "(known: none)"),
    ],
)  # fmt: skip
async def test_rejections_send_nothing(fixture, probe, command, error, fragment) -> None:
    default_probe, data = _setup(fixture)
    with pytest.raises(error, match=re.escape(fragment)):
        commands.validate(command, probe or default_probe, data)
    async with recorder_and_fetcher() as (server, fetcher):
        with pytest.raises(error):
            await commands.execute(fetcher, command, probe or default_probe, data)
        await assert_nothing_sent(server, fetcher)


async def _get(transport: HttpTransport, path: str) -> Any:
    response = await transport.request("GET", path)
    assert response.status == 200, path
    return json.loads(response.body)


def _acb(inventory: list[dict[str, Any]]) -> dict[str, Any]:
    [group] = [g for g in inventory if g["type"] == "ACB"]
    return next(d for d in group["devices"] if d["serial_num"] == ACB_SERIAL)


async def test_acb_sleep_and_wake_are_visible_in_the_inventory(envoy_simulator) -> None:
    sim = await envoy_simulator(ACB_FIXTURE)
    transport = HttpTransport(sim.url, auth=BearerAuth(sim.issue_token()))
    probe, data = _setup(ACB_FIXTURE)
    try:
        assert _acb(await _get(transport, "/inventory.json?deleted=1"))["sleep_enabled"] is False
        await commands.execute(
            transport, SetAcbSleep(serial=ACB_SERIAL, min_soc=15, max_soc=35), probe, data
        )
        asleep = _acb(await _get(transport, "/inventory.json?deleted=1"))
        await commands.execute(transport, WakeAcb(serial=ACB_SERIAL), probe, data)
        awake = _acb(await _get(transport, "/inventory.json?deleted=1"))
    finally:
        await transport.close()
    assert (asleep["sleep_enabled"], asleep["sleep_min_soc"], asleep["sleep_max_soc"]) == (
        True,
        15,
        35,
    )
    assert awake["sleep_enabled"] is False


async def test_generator_mode_is_visible_in_gen_mode(envoy_simulator) -> None:
    sim = await envoy_simulator(GEN_FIXTURE)
    transport = HttpTransport(sim.url, auth=BearerAuth(sim.issue_token()))
    probe, data = _setup(GEN_FIXTURE)
    try:
        assert (await _get(transport, "/ivp/ss/gen_mode"))["gen_cmd"] == "on"
        await commands.execute(transport, SetGeneratorMode(mode="auto"), probe, data)
        after = await _get(transport, "/ivp/ss/gen_mode")
    finally:
        await transport.close()
    assert after["gen_cmd"] == "auto"
