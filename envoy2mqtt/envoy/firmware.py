"""Identify an Envoy from its unauthenticated ``/info`` XML document."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
from awesomeversion import AwesomeVersion
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from envoy2mqtt.envoy.errors import EnvoyFirmwareError

if TYPE_CHECKING:
    # Only the element type; parsing always goes through defusedxml.
    from xml.etree.ElementTree import Element

_LOGGER = logging.getLogger(__name__)


class EnvoyInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``/info`` says about the gateway.

    Attributes:
        firmware: firmware version without the release letter (``D8.3.5167`` -> ``8.3.5167``).
        serial: gateway serial number (empty if the document has none).
        part_number: gateway part number (empty if the document has none).
        imeter: True for the metered hardware variant (has CT inputs).
        web_tokens: the ``<web-tokens>`` flag (token firmware), None when absent.
        time: the gateway's clock when it answered (``<time>``, epoch seconds), None when
            absent or not a number.
    """

    firmware: str
    serial: str
    part_number: str
    imeter: bool
    web_tokens: bool | None = None
    time: int | None = None

    @property
    def version(self) -> AwesomeVersion:
        """Return the firmware as a comparable version."""
        return AwesomeVersion(self.firmware)


def _text(parent: Element, tag: str) -> str | None:
    node = parent.find(tag)
    if node is None or node.text is None:
        return None
    return node.text.strip()


def _epoch(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def parse_info(body: bytes) -> EnvoyInfo:
    """Parse an ``/info`` response body.

    Args:
        body: the raw XML bytes.

    Returns:
        The identification of the gateway.

    Raises:
        EnvoyFirmwareError: the body is not well-formed (or unsafe) XML, or has no firmware.
    """
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as err:
        raise EnvoyFirmwareError(f"/info is not valid XML: {type(err).__name__}") from err
    device = root.find("device")
    software = _text(device, "software") if device is not None else None
    if device is None or not software or len(software) < 2:
        raise EnvoyFirmwareError("/info has no device/software element")
    web_tokens = _text(root, "web-tokens")
    info = EnvoyInfo(
        # The first character is a release letter (D, R), not part of the version.
        firmware=software[1:],
        serial=_text(device, "sn") or "",
        part_number=_text(device, "pn") or "",
        imeter=_text(device, "imeter") == "true",
        web_tokens=None if web_tokens is None else web_tokens == "true",
        time=_epoch(_text(root, "time")),
    )
    _LOGGER.debug("info parsed firmware=%s metered=%s", info.firmware, info.imeter)
    return info
