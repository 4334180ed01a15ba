"""The gateway's MAC and interface from ``/home``: read once per probe, never polled.

``/home`` is the one read the client makes at each probe (it also gives the Envoy's time
zone, see test_bridge_clock); the interface is what ``network.primary_interface`` names.

Published as diagnostic attributes of the gateway state (``mac``, ``network_interface``,
``network_type``) and as the gateway device's ``connections`` in discovery (Home
Assistant's integration adds the same MAC to its device, home-assistant/core PR 143758).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envoy2mqtt.envoy.home import parse_home
from envoy2mqtt.envoy.network import NetworkInterface, primary_interface
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import FIXTURES, Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator


def _eth(mac: str, interface: str = "eth0", kind: str = "ethernet") -> NetworkInterface:
    return NetworkInterface(interface=interface, type=kind, mac=mac, dhcp=True)


HOME_FIXTURES = {
    "7.6.175": _eth("00:1d:c0:7f:b6:3b"),
    "8.3.1598_collar": _eth("00:10:2d:30:40:50", "wlan0", "wifi"),
    "8.3.5169_ACB_inventory": _eth("00:1d:c0:73:5c:04"),
    "8.3.5169_with_generator": _eth("00:1d:c0:99:99:01"),
    "8.3.5289_modGone": _eth("aa:bb:cc:dd:ee:01"),
}


def test_every_fixture_with_a_home_capture_is_covered() -> None:
    assert sorted(p.parent.name for p in FIXTURES.glob("*/home")) == sorted(HOME_FIXTURES)


@pytest.mark.parametrize("fixture", sorted(HOME_FIXTURES))
def test_primary_interface_of_each_capture(fixture: str) -> None:
    home = parse_home((FIXTURES / fixture / "home").read_bytes())
    assert home is not None
    assert home.interface == HOME_FIXTURES[fixture]
    assert home.timezone  # the rest of /home is still there


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{}", None),
        (b'{"network": {"primary_interface": "none", "interfaces": []}}', None),
        (
            b'{"network": {"primary_interface": "eth0", "interfaces": '
            b'[{"interface": "eth0", "type": "ethernet", "mac": "not-a-mac"}]}}',
            NetworkInterface(interface="eth0", type="ethernet"),
        ),
        (
            b'{"network": {"primary_interface": "eth0", "interfaces": '
            b'[{"interface": "eth0", "mac": "00-1D-C0-7F-B6-3B"}]}}',
            NetworkInterface(interface="eth0", mac="00:1d:c0:7f:b6:3b"),
        ),
    ],
)
def test_odd_bodies(body: bytes, expected: NetworkInterface | None) -> None:
    assert primary_interface(body) == expected


@pytest.mark.parametrize("body", [b"<html>", b"[]", b'{"network": {"interfaces": 5}}'])
def test_unusable_network_section_is_no_interface(body: bytes) -> None:
    assert primary_interface(body) is None


def test_bad_network_section_keeps_the_time_zone() -> None:
    home = parse_home(b'{"timezone": "US/Central", "network": {"interfaces": 5}}')
    assert home is not None
    assert home.timezone == "US/Central"
    assert home.interface is None


def _homes(sim: EnvoySimulator) -> int:
    return len(sim.requests.entries(path="/home"))


async def _firmware_checks(sim: EnvoySimulator, more: int) -> None:
    start = len(sim.requests.entries(path="/info"))
    await sim.requests.wait_for(
        lambda _e: len(sim.requests.entries(path="/info")) >= start + more, 15
    )


async def test_mac_is_a_gateway_attribute_and_a_device_connection(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, watcher: Watcher, tmp_path: Path
) -> None:
    sim = await envoy_simulator("8.3.1598_collar")
    gateway = f"envoy2mqtt/{sim.serial}/gateway"
    config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    async with running_bridge(bridge_settings(mosquitto.port, [sim], tmp_path)):
        await watcher.wait(lambda w: w.json(gateway).get("mac") == "00:10:2d:30:40:50")
        await watcher.wait(lambda w: b'"connections"' in w.latest.get(config, b""))
        await _firmware_checks(sim, 3)  # intervals.firmware is 1 s here
        assert _homes(sim) == 1  # once per probe, never polled
    payload = watcher.json(gateway)
    assert payload["network_interface"] == "wlan0"
    assert payload["network_type"] == "wifi"
    device = json.loads(watcher.latest[config])["dev"]
    assert device["connections"] == [["mac", "00:10:2d:30:40:50"]]


async def test_firmware_without_home_is_asked_once_and_has_no_mac(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, watcher: Watcher, tmp_path: Path
) -> None:
    sim = await envoy_simulator("7.3.517")  # no /home capture: the simulator answers 404
    gateway = f"envoy2mqtt/{sim.serial}/gateway"
    async with running_bridge(bridge_settings(mosquitto.port, [sim], tmp_path)):
        await watcher.wait(lambda w: "firmware" in w.json(gateway))
        await sim.requests.wait_for(lambda e: e.path == "/home" and e.status == 404, 15)
        await _firmware_checks(sim, 3)
        assert _homes(sim) == 1
        assert "mac" not in watcher.json(gateway)
