"""Production from the HTML ``/production`` page of very old (3.x) firmware.

pyenphase gives up on Envoys whose only production source is this page; we read its four
figures instead. The page is parsed with the standard library's tolerant ``html.parser``
(no DTDs, no entity expansion beyond the HTML named set, no network access).
"""

from __future__ import annotations

import itertools
import logging
import re

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyHTTPStatusError, EnvoyMalformedResponse
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, SystemEnergy
from envoy2mqtt.envoy.updaters.base import Reader, Updater

_LOGGER = logging.getLogger(__name__)

_MAX_PAGE = 256 * 1024
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kM]?)(Wh|W)\s*$")
_SCALE = {"": 1.0, "k": 1e3, "M": 1e6}
_LABELS = {
    "Currently": ("watts_now", "W"),
    "Today": ("watt_hours_today", "Wh"),
    "Past Week": ("watt_hours_last_7_days", "Wh"),
    "Since Installation": ("watt_hours_lifetime", "Wh"),
}


def _quantity(text: str, unit: str) -> int | None:
    match = _QUANTITY.match(text)
    if match is None or match.group(3) != unit:
        return None
    return round(float(match.group(1)) * _SCALE[match.group(2)])


def parse_production_page(body: bytes) -> SystemEnergy | None:
    """Return the production figures of the legacy HTML page, or None if it has none."""
    if len(body) > _MAX_PAGE:
        return None
    # Imported here: only a 3.x Envoy without a JSON production source gets this far, so
    # other bridges never load html.parser (docs/performance.md § 6).
    from envoy2mqtt.envoy.updaters.html_cells import table_cells  # noqa: PLC0415

    cells = table_cells(body.decode("utf-8", errors="replace"))
    values: dict[str, int] = {}
    for label, value in itertools.pairwise(cells):
        target = _LABELS.get(label)
        if target is not None and (number := _quantity(value, target[1])) is not None:
            values.setdefault(target[0], number)
    if len(values) != len(_LABELS):
        return None
    return SystemEnergy(**values)


class LegacyHtmlProductionUpdater(Updater):
    """Last-resort production source for 3.x Envoys that only serve the HTML page."""

    group = "production"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim PRODUCTION when nothing else did and the page carries the four figures."""
        if SupportedFeatures.PRODUCTION in found:
            return None
        try:
            body = await reader.body(endpoints.PRODUCTION)
        except EnvoyHTTPStatusError as err:
            # Includes 401: 3.x firmware answers it here even for users who may read the page.
            _LOGGER.debug(
                "probe path=%s result=unavailable status=%s", endpoints.PRODUCTION, err.status
            )
            return None
        if parse_production_page(body) is None:
            return None
        self.features |= SupportedFeatures.PRODUCTION
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``system_production`` from the page."""
        production = parse_production_page(await reader.body(endpoints.PRODUCTION))
        if production is None:
            raise EnvoyMalformedResponse(endpoints.PRODUCTION, "no production figures in page")
        out.system_production = production
