"""Where the time of one envoy2mqtt update goes: JSON parsing vs everything else.

Used by ``decode.py --breakdown``. A recording pass notes which (body, msgspec decoder) pairs
one update uses; the decoders are then timed alone, without any hook in place. orjson's
untyped parse of the same JSON bodies is timed too: it is what pyenphase must at least spend.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec


@contextlib.contextmanager
def recorded_decodes(calls: list[tuple[str, bytes, Any]]) -> Iterator[None]:
    """While active, every ``Reader.decode`` appends (path, body, decoder) to ``calls``."""
    from envoy2mqtt.envoy.updaters import base  # noqa: PLC0415 - internal, diagnostics only

    original = base.Reader.decode

    async def recording(self: Any, path: str, decoder: Any) -> Any:
        calls.append((path, await self.body(path), decoder))
        return await original(self, path, decoder)

    base.Reader.decode = recording  # type: ignore[method-assign]
    try:
        yield
    finally:
        base.Reader.decode = original  # type: ignore[method-assign]


async def decode_only(fetcher: Any, pairs: list[tuple[str, Any]]) -> None:
    """Fetch and decode what one update decodes, through the same ``Reader``, and nothing else.

    Timed instead of ``DataCollector.update`` by ``decode.py --decode-only``: the CPU an
    update would cost if every conversion and the collector itself were free. The second-step
    decodes of inventory devices kept as ``msgspec.Raw`` (a few per update) are left out.
    """
    from envoy2mqtt.envoy.updaters.base import Reader  # noqa: PLC0415 - lands late

    reader = Reader(fetcher)
    for path, decoder in pairs:
        await reader.decode(path, decoder)


def _median_us(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.process_time_ns()
        fn()
        samples.append(time.process_time_ns() - start)
    return statistics.median(samples) / 1000.0


def msgspec_us(pairs: list[tuple[bytes, Any]], repeat: int) -> float:
    """Median CPU µs of running every recorded typed decode once."""

    def run() -> None:
        for body, decoder in pairs:
            decoder.decode(body)

    return _median_us(run, repeat)


class _Nothing(msgspec.Struct):
    """Decoding into this skips every key: msgspec only scans and validates the JSON."""


_SKIP_OBJECT = msgspec.json.Decoder(_Nothing)
_SKIP_ARRAY = msgspec.json.Decoder(list[_Nothing])
_GENERIC = msgspec.json.Decoder()


def _skipper(body: bytes) -> Any:
    for decoder in (_SKIP_OBJECT, _SKIP_ARRAY):
        try:
            decoder.decode(body)
        except msgspec.ValidationError:
            continue
        return decoder
    return _GENERIC


def scan_us(pairs: list[tuple[bytes, Any]], repeat: int) -> float:
    """Median CPU µs of msgspec merely scanning the same bodies (the parse floor)."""
    plan = [(body, _skipper(body)) for body, _ in pairs]

    def run() -> None:
        for body, decoder in plan:
            decoder.decode(body)

    return _median_us(run, repeat)


def orjson_us(bodies: list[bytes], repeat: int) -> float | None:
    """Median CPU µs of ``orjson.loads`` over the JSON bodies (None without orjson)."""
    if importlib.util.find_spec("orjson") is None:
        return None
    orjson: Any = importlib.import_module("orjson")
    json_bodies = [b for b in bodies if b.lstrip()[:1] in (b"{", b"[")]

    def run() -> None:
        for body in json_bodies:
            orjson.loads(body)

    return _median_us(run, repeat)
