"""``/info`` parsing: fields, release-letter stripping, and safe rejection of bad XML."""

from __future__ import annotations

import pytest
from awesomeversion import AwesomeVersion

from envoy2mqtt.envoy.errors import EnvoyFirmwareError
from envoy2mqtt.envoy.firmware import EnvoyInfo, parse_info
from tests.plugins.fixture_fetcher import FIXTURES_DIR

INFO = b"""<?xml version="1.0" encoding="UTF-8"?>
<envoy_info>
  <time>1753703630</time>
  <device>
    <sn>123456789012</sn>
    <pn>800-00649-r01</pn>
    <software>D8.3.5167</software>
    <imeter>true</imeter>
  </device>
  <web-tokens>true</web-tokens>
</envoy_info>"""


def test_fields_are_read_and_the_release_letter_is_stripped() -> None:
    info = parse_info(INFO)
    assert info == EnvoyInfo(
        firmware="8.3.5167",
        serial="123456789012",
        part_number="800-00649-r01",
        imeter=True,
        web_tokens=True,
        time=1753703630,
    )
    assert info.version == AwesomeVersion("8.3.5167")
    assert info.version > AwesomeVersion("8.2.4264")


def test_legacy_info_without_imeter_or_web_tokens() -> None:
    info = parse_info((FIXTURES_DIR / "3.8.10" / "info").read_bytes())
    assert info.firmware == "3.18.10"
    assert info.imeter is False
    assert info.web_tokens is None
    assert info.version.major == "3"


def test_imeter_false_and_web_tokens_false() -> None:
    body = INFO.replace(b"<imeter>true", b"<imeter>false").replace(
        b"<web-tokens>true", b"<web-tokens>false"
    )
    info = parse_info(body)
    assert (info.imeter, info.web_tokens) == (False, False)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<envoy_info><device><software>D8.3",  # truncated
        b"<envoy_info><device><sn>1</sn></device></envoy_info>",  # no software
        b"<envoy_info></envoy_info>",  # no device
        b"<envoy_info><device><software>D</software></device></envoy_info>",
    ],
    ids=["empty", "text", "truncated", "no-software", "no-device", "letter-only"],
)
def test_bad_documents_raise_firmware_error(body: bytes) -> None:
    with pytest.raises(EnvoyFirmwareError):
        parse_info(body)


def test_entity_expansion_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<envoy_info><device><software>D8.&lol2;</software></device></envoy_info>"""
    with pytest.raises(EnvoyFirmwareError):
        parse_info(bomb)


def test_external_entities_are_refused() -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE envoy_info [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<envoy_info><device><software>D8.1</software><sn>&xxe;</sn></device></envoy_info>"""
    with pytest.raises(EnvoyFirmwareError):
        parse_info(xxe)
