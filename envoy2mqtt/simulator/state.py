"""The mutable state of one simulated Envoy on top of its shared, read-only fixture.

Captured bodies are shared between every simulator serving the same fixture (parsed and
read once per process). A document is decoded into a private, mutable copy only when it
is written, made live or reset by a reboot; from then on GETs serve that copy.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore, StoredResponse

_JSON = "application/json"
_SOFTWARE = re.compile(rb"<software>([A-Za-z]?)[^<]*</software>")
_SERIAL = re.compile(rb"<sn>([^<]*)</sn>")
_TIME = re.compile(rb"<time>[^<]*</time>")

# Documents whose power values move and whose energy counters grow in live mode, and whose
# counters a reboot resets.
ENERGY_SLUGS = (
    "production.json",
    "production.json_details_1",
    "production",
    "api_v1_production",
    "ivp_meters_readings",
)
POWER_KEYS = frozenset({"wNow", "wattsNow", "activePower"})
COUNTER_KEYS = frozenset(
    {
        "whLifetime", "whToday", "whLastSevenDays", "wattHoursToday", "wattHoursSevenDays",
        "wattHoursLifetime", "actEnergyDlvd", "actEnergyRcvd", "varhLeadLifetime",
        "varhLagLifetime", "vahLifetime", "apparentEnergy", "reactEnergyLagg", "reactEnergyLead",
    }
)  # fmt: skip
_HIDDEN_SUFFIXES = ("_log.json", "_readme")


@functools.cache
def shared_store(directory: Path, mode: FixtureMode) -> FixtureStore:
    """Return the process-wide store for a fixture directory (one parse per process)."""
    return FixtureStore(directory, mode)


def _numbers(doc: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield (container, key) for every numeric value under ``doc``."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                yield doc, key
            else:
                yield from _numbers(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from _numbers(item)


class DeviceState:
    """Everything one simulated Envoy serves, including writes and live changes."""

    def __init__(self, store: FixtureStore) -> None:
        """Serve ``store`` (shared, never modified)."""
        self.store = store
        self._docs: dict[str, Any] = {}
        self._info: bytes | None = None
        self._rng: random.Random | None = None
        info = store.lookup_slug("info")
        self._original_info = info.body if info is not None else b""

    @property
    def info_xml(self) -> bytes:
        """The current ``/info`` body (firmware may differ from the capture after a reboot)."""
        return self._info if self._info is not None else self._original_info

    @property
    def serial(self) -> str:
        """Gateway serial number from ``/info``."""
        match = _SERIAL.search(self.info_xml)
        return match[1].decode() if match else "000000000000"

    @property
    def firmware(self) -> str:
        """Firmware version without the release letter (``8.3.5169``)."""
        match = re.search(rb"<software>[A-Za-z]?([^<]*)</software>", self.info_xml)
        return match[1].decode() if match else "0.0.0"

    @property
    def uses_tokens(self) -> bool:
        """True for firmware >= 7 (HTTPS + JWT); legacy firmware uses HTTP Digest."""
        major = self.firmware.split(".", 1)[0]
        return major.isdigit() and int(major) >= 7

    def set_firmware(self, firmware: str) -> None:
        """Report ``firmware`` (``8.3.1`` or ``D8.3.1``) in ``/info`` from now on."""
        version = firmware.lstrip("DRdr")
        if not re.fullmatch(r"\d+(\.\d+)*", version):
            raise ValueError("firmware must look like 8.3.5169")

        def replace(match: re.Match[bytes]) -> bytes:
            letter = match[1] or b"D"
            return b"<software>" + letter + version.encode() + b"</software>"

        self._info = _SOFTWARE.sub(replace, self.info_xml)

    def set_clock(self, epoch: int) -> None:
        """Report ``epoch`` as the gateway's clock (``/info`` ``<time>``) from now on."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError("time must be epoch seconds (a non-negative integer)")
        self._info = _TIME.sub(b"<time>" + str(epoch).encode() + b"</time>", self.info_xml)

    def exists(self, slug: str) -> bool:
        """Return True if the device answers GETs for this capture file."""
        if slug == "expected.json" or slug.endswith(_HIDDEN_SUFFIXES):
            return False
        if not slug or "/" in slug or "\x00" in slug or slug.startswith("."):
            return False  # only plain file names inside the fixture directory
        return slug in self._docs or self.store.lookup_slug(slug) is not None

    def response(self, slug: str) -> StoredResponse | None:
        """Return what a GET of the capture ``slug`` answers now, or None (404)."""
        if not self.exists(slug):
            return None
        if slug == "info":
            stored = self.store.lookup_slug(slug)
            assert stored is not None
            return StoredResponse(stored.status, self.info_xml, stored.content_type)
        if self._rng is not None and slug in ENERGY_SLUGS and self.doc(slug) is not None:
            self._step(self._docs[slug])
        if slug in self._docs:
            stored = self.store.lookup_slug(slug)
            status = stored.status if stored is not None else 200
            return StoredResponse(status, msgspec.json.encode(self._docs[slug]), _JSON)
        return self.store.lookup_slug(slug)

    def peek(self, slug: str) -> Any:
        """Return the document for ``slug`` for reading only (None if absent or not JSON).

        Unlike :meth:`doc` this takes no private copy, so the capture keeps being served
        byte for byte; do not modify the result.
        """
        if slug in self._docs:
            return self._docs[slug]
        stored = self.store.lookup_slug(slug)
        if stored is None or stored.status != 200:
            return None
        try:
            return msgspec.json.decode(stored.body)
        except msgspec.DecodeError:
            return None

    def current(self, slug: str) -> Any:
        """Like :meth:`peek`, but live values move one step, as on a GET in live mode."""
        if self._rng is None or slug not in ENERGY_SLUGS:
            return self.peek(slug)
        doc = self.doc(slug)
        if doc is not None:
            self._step(doc)
        return doc

    def doc(self, slug: str) -> Any:
        """Return the mutable JSON document for ``slug`` (None if absent or not JSON)."""
        if slug in self._docs:
            return self._docs[slug]
        stored = self.store.lookup_slug(slug)
        if stored is None or stored.status != 200:
            return None
        try:
            self._docs[slug] = msgspec.json.decode(stored.body)
        except msgspec.DecodeError:
            return None
        return self._docs[slug]

    def set_doc(self, slug: str, doc: Any) -> None:
        """Replace the document served for ``slug``."""
        self._docs[slug] = doc

    def set_live(self, seed: int | None) -> None:
        """Enable live values with a seeded random walk, or disable them (None)."""
        self._rng = None if seed is None else random.Random(seed)  # noqa: S311 - not crypto

    @property
    def live(self) -> bool:
        """True while power values move on every request."""
        return self._rng is not None

    def reset_counters(self) -> None:
        """Zero every energy counter, as the Envoy reports right after a reboot."""
        for slug in ENERGY_SLUGS:
            for container, key in _numbers(self.doc(slug)):
                if key in COUNTER_KEYS:
                    container[key] = 0

    def _step(self, doc: Any) -> None:
        rng = self._rng
        assert rng is not None
        for container, key in _numbers(doc):
            value = container[key]
            if key in POWER_KEYS:
                moved = value + rng.uniform(-1.0, 1.0) * (0.05 * abs(value) + 5.0)
                moved = max(moved, 0.0) if value >= 0 else moved
                container[key] = round(moved) if isinstance(value, int) else round(moved, 3)
            elif key in COUNTER_KEYS:
                grow = rng.uniform(0.0, 5.0)
                container[key] = value + round(grow) if isinstance(value, int) else value + grow
