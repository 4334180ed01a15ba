"""CPU cost of one full update (raw response bytes -> data model): envoy2mqtt vs pyenphase.

Both libraries get the *same* bytes (``FixtureStore`` in GOLDEN mode, the URL mapping the
golden files were produced with) through a stub at their lowest "bytes for a path" layer:

* envoy2mqtt: a ``Fetcher`` whose ``request()`` is one dict lookup returning a prebuilt
  ``Response``; ``DataCollector.update()`` is timed.
* pyenphase: ``Envoy.request``/``Envoy.probe_request`` replaced on the instance by a stub
  that is one dict lookup returning a prebuilt response object (``status``, ``url``,
  ``headers``, ``async read()``); ``Envoy.update()`` is timed. The stub sits where
  envoy2mqtt's transport sits, so neither side pays for HTTP, retries or mocking.

Probing happens once per fixture before timing. Repetitions of the two sides are
interleaved (order alternating) so drift affects both equally. Time is CPU time
(``time.process_time_ns``) and the median per update is reported.

Run: ``python -m benchmarks.decode`` (pyenphase must be importable for the comparison;
see benchmarks/README.md). ``--profile`` prints a cProfile of the envoy2mqtt side.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import enum
import gc
import importlib
import importlib.metadata
import io
import json
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import msgspec

from benchmarks import _decode_floor
from benchmarks._common import (
    fixture_dirs,
    format_table,
    geometric_mean,
    machine_facts,
    median,
)
from envoy2mqtt.envoy.errors import EnvoyAuthenticationRequired
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore, StoredResponse

_AUTH_STATUSES = (401, 403)


def _expected(fixture: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((fixture / "expected.json").read_bytes())
    return loaded


# --------------------------------------------------------------------------- envoy2mqtt side


def body_variants(body: bytes) -> tuple[bytes, bytes]:
    """The body as captured and, for JSON, with a trailing newline (same document).

    Alternating the two defeats any "bytes unchanged since last time" shortcut, which a
    real device's live endpoints would never allow, while both libraries parse the same.
    """
    if body.lstrip()[:1] in (b"{", b"["):
        return body, body + b"\n"
    return body, body


class MemoryFetcher:
    """envoy2mqtt ``Fetcher`` answering from pre-loaded fixture bytes (one dict lookup).

    ``variant`` (0/1) picks which of :func:`body_variants` is served.
    """

    def __init__(self, store: FixtureStore) -> None:
        """Serve the captures of ``store``; responses are built once and reused."""
        self._store = store
        self._cache: dict[str, tuple[Response, Response] | None] = {}
        self.calls = 0
        self.variant = 0

    def _build(self, path: str) -> tuple[Response, Response] | None:
        stored = self._store.lookup(path)
        if stored is None:
            return None
        a, b = body_variants(stored.body)
        return (
            Response(status=stored.status, body=a, content_type=stored.content_type),
            Response(status=stored.status, body=b, content_type=stored.content_type),
        )

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        """Return the captured answer for ``path`` (404 when there is none)."""
        self.calls += 1
        try:
            both = self._cache[path]
        except KeyError:
            both = self._cache[path] = self._build(path)
        resp = None if both is None else both[self.variant]
        if resp is None:
            return Response(status=404, body=b"", content_type="text/html")
        if resp.status in _AUTH_STATUSES:
            raise EnvoyAuthenticationRequired(resp.status, path)
        return resp


class Envoy2MqttSide:
    """Probes once, then runs ``DataCollector.update`` on the same in-memory bytes."""

    name = "envoy2mqtt"

    def __init__(self, fixture: Path, *, decode_only: bool = False) -> None:
        """Prepare for ``fixture`` (nothing is read until :meth:`setup`).

        ``decode_only``: after the first (verified) update, time only the fetches and typed
        decodes that update made (see ``_decode_floor.decode_only``).
        """
        self.fixture = fixture
        self.fetcher = MemoryFetcher(FixtureStore(fixture, FixtureMode.GOLDEN))
        self._collector: Any = None
        self._data: Any = None
        self._decode_only = decode_only
        self._pairs: list[tuple[str, Any]] | None = None

    async def setup(self) -> None:
        """Parse ``/info`` and probe; raises whatever envoy2mqtt raises for this Envoy."""
        from envoy2mqtt.envoy.firmware import parse_info  # noqa: PLC0415 - lands late
        from envoy2mqtt.envoy.models.data import EnvoyData  # noqa: PLC0415
        from envoy2mqtt.envoy.probe import DataCollector  # noqa: PLC0415

        info_resp = await self.fetcher.request("GET", "/info")
        self._collector = DataCollector(parse_info(info_resp.body))
        await self._collector.probe(self.fetcher)
        self._data = EnvoyData()

    def set_variant(self, variant: int) -> None:
        """Serve body variant 0 or 1 (see :func:`body_variants`)."""
        self.fetcher.variant = variant

    async def update(self) -> None:
        """One full update of every group."""
        if self._pairs is not None:
            await _decode_floor.decode_only(self.fetcher, self._pairs)
        elif self._decode_only:
            calls: list[tuple[str, bytes, Any]] = []
            with _decode_floor.recorded_decodes(calls):
                await self._collector.update(self.fetcher, self._data)
            self._pairs = [(path, decoder) for path, _, decoder in calls]
        else:
            await self._collector.update(self.fetcher, self._data)

    def golden(self) -> str:
        """Compare the data model with ``expected.json`` (``ok``/``DIFF``)."""
        expected = _expected(self.fixture)
        if "error" in expected:
            return "decoded (golden: error)"
        got = json.loads(msgspec.json.encode(self._data))
        got.pop("livedata", None)  # our addition, not in pyenphase's goldens
        return "ok" if got == expected.get("data") else "DIFF"


# --------------------------------------------------------------------------- pyenphase side


@dataclasses.dataclass(slots=True)
class _PeResponse:
    """The subset of ``aiohttp.ClientResponse`` that pyenphase's updaters read."""

    status: int
    body: bytes
    url: str
    headers: dict[str, str]

    async def read(self) -> bytes:
        return self.body

    async def __aenter__(self) -> _PeResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _pe_plain(value: Any) -> Any:
    """pyenphase dataclasses -> JSON-like builtins, ``raw`` dropped (as the goldens were)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _pe_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "raw"
        }
    if isinstance(value, dict):
        return {str(k): _pe_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_pe_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


class PyenphaseSide:
    """Probes once, then runs ``pyenphase.Envoy.update`` with a bytes stub under it."""

    name = "pyenphase"

    def __init__(self, fixture: Path, pe: Any) -> None:
        """Prepare for ``fixture``; ``pe`` is the imported pyenphase module."""
        self.fixture = fixture
        self._pe = pe
        self._store = FixtureStore(fixture, FixtureMode.GOLDEN)
        self._cache: dict[str, tuple[_PeResponse, _PeResponse]] = {}
        self.variant = 0
        self._envoy: Any = None
        self._data: Any = None
        self.calls = 0
        self.recorded: list[bytes] | None = None

    def _build(self, path: str) -> tuple[_PeResponse, _PeResponse]:
        stored: StoredResponse | None = self._store.lookup(path)
        if stored is None:
            missing = _PeResponse(404, b"", path, {"content-type": "text/html"})
            return missing, missing
        headers = {"content-type": stored.content_type}
        a, b = body_variants(stored.body)
        return (
            _PeResponse(stored.status, a, path, headers),
            _PeResponse(stored.status, b, path, headers),
        )

    async def _request(
        self, endpoint: str, data: Any = None, method: str | None = None
    ) -> _PeResponse:
        self.calls += 1
        try:
            resp = self._cache[endpoint][self.variant]
        except KeyError:
            self._cache[endpoint] = self._build(endpoint)
            resp = self._cache[endpoint][self.variant]
        if self.recorded is not None:
            self.recorded.append(resp.body)
        if resp.status in _AUTH_STATUSES:
            raise self._pe.exceptions.EnvoyAuthenticationRequired(f"status {resp.status}")
        return resp

    async def setup(self) -> None:
        """Run pyenphase's own ``/info`` parsing and probe on the stubbed bytes."""
        info = self._store.lookup("/info")
        assert info is not None
        firmware_cls = self._pe.firmware.EnvoyFirmware

        async def get_info(_self: Any) -> tuple[int, bytes]:
            return info.status, info.body

        self._envoy = self._pe.Envoy("127.0.0.1")
        with mock.patch.object(firmware_cls, "_get_info", get_info):
            await self._envoy.setup()
        # Instance attributes shadow the (tenacity-wrapped) methods for probe and update.
        self._envoy.request = self._request
        self._envoy.probe_request = self._request
        await self._envoy.probe()

    def set_variant(self, variant: int) -> None:
        """Serve body variant 0 or 1 (see :func:`body_variants`)."""
        self.variant = variant

    async def update(self) -> None:
        """One full ``Envoy.update()``."""
        self._data = await self._envoy.update()

    def golden(self) -> str:
        """Compare the data model with ``expected.json`` (``ok``/``DIFF``)."""
        got = json.loads(json.dumps(_pe_plain(self._data)))
        return "ok" if got == _expected(self.fixture).get("data") else "DIFF"

    async def close(self) -> None:
        """Close the aiohttp session pyenphase created (never used for I/O)."""
        if self._envoy is not None:
            await self._envoy.close()


# --------------------------------------------------------------------------- measurement


@dataclasses.dataclass
class FixtureResult:
    """Per-fixture outcome: median CPU µs per update and a golden check for each side."""

    fixture: str
    e2m_us: float | None = None
    pe_us: float | None = None
    e2m_note: str = ""
    pe_note: str = ""
    e2m_requests: int = 0
    pe_requests: int = 0
    e2m_decode_us: float | None = None
    e2m_scan_us: float | None = None
    pe_parse_us: float | None = None

    @property
    def ratio(self) -> float | None:
        """pyenphase CPU / envoy2mqtt CPU (how many times less CPU envoy2mqtt needs)."""
        if self.e2m_us is None or self.pe_us is None or self.e2m_us <= 0:
            return None
        return self.pe_us / self.e2m_us


async def _cpu_ns(update: Callable[[], Awaitable[None]]) -> int:
    start = time.process_time_ns()
    await update()
    return time.process_time_ns() - start


async def _prepare(side: Any, note_prefix: str = "") -> tuple[bool, str, int]:
    """Probe and run one verification update; return (usable, note, requests per update)."""
    try:
        await side.setup()
        before = side.fetcher.calls if hasattr(side, "fetcher") else side.calls
        await side.update()
        after = side.fetcher.calls if hasattr(side, "fetcher") else side.calls
    except Exception as err:  # any failure (incl. a missing module) is reported in the table
        return False, f"{note_prefix}{type(err).__name__}", 0
    return True, side.golden(), after - before


async def bench_fixture(
    fixture: Path,
    pe: Any,
    repeat: int,
    warmup: int,
    *,
    breakdown: bool = False,
    same_bytes: bool = False,
    decode_only: bool = False,
) -> FixtureResult:
    """Measure one fixture on both sides (pyenphase only when ``pe`` is not None)."""
    result = FixtureResult(fixture.name)
    e2m = Envoy2MqttSide(fixture, decode_only=decode_only)
    e2m_ok, result.e2m_note, result.e2m_requests = await _prepare(e2m)
    pe_side = PyenphaseSide(fixture, pe) if pe is not None else None
    pe_ok = False
    if pe_side is not None:
        pe_ok, result.pe_note, result.pe_requests = await _prepare(pe_side)
    else:
        result.pe_note = "not installed"

    sides: list[tuple[str, Any]] = []
    if e2m_ok:
        sides.append(("e2m", e2m))
    if pe_ok:
        sides.append(("pe", pe_side))
    samples: dict[str, list[int]] = {key: [] for key, _ in sides}
    for i in range(warmup + repeat):
        # Alternate the order so cache/GC effects of one side do not always hit the other.
        ordered = sides if i % 2 == 0 else list(reversed(sides))
        for key, side in ordered:
            side.set_variant(0 if same_bytes else i % 2)
            ns = await _cpu_ns(side.update)
            if i >= warmup:
                samples[key].append(ns)
    if e2m_ok:
        result.e2m_us = median(samples["e2m"]) / 1000.0
    if pe_ok:
        result.pe_us = median(samples["pe"]) / 1000.0
    if breakdown:
        await _breakdown(result, e2m if e2m_ok else None, pe_side if pe_ok else None, repeat)
    if pe_side is not None:
        await pe_side.close()
    return result


async def _breakdown(
    result: FixtureResult, e2m: Envoy2MqttSide | None, pe_side: PyenphaseSide | None, repeat: int
) -> None:
    """Fill the parse-floor columns: envoy2mqtt's typed decodes, orjson on pyenphase's bodies."""
    if e2m is not None:
        calls: list[tuple[str, bytes, Any]] = []
        with _decode_floor.recorded_decodes(calls):
            await e2m.update()
        pairs = [(body, decoder) for _, body, decoder in calls]
        result.e2m_decode_us = _decode_floor.msgspec_us(pairs, repeat)
        result.e2m_scan_us = _decode_floor.scan_us(pairs, repeat)
    if pe_side is not None:
        pe_side.recorded = []
        await pe_side.update()
        bodies, pe_side.recorded = pe_side.recorded, None
        result.pe_parse_us = _decode_floor.orjson_us(bodies, repeat)


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "n/a" if value is None else format(value, spec)


def render(results: list[FixtureResult]) -> str:
    """The per-fixture table plus overall sum and geometric-mean ratios."""
    rows = [
        [
            r.fixture,
            _fmt(r.e2m_us),
            _fmt(r.pe_us),
            _fmt(r.ratio, ".2f") + ("x" if r.ratio is not None else ""),
            f"{r.e2m_requests}/{r.pe_requests}",
            f"{r.e2m_note}/{r.pe_note}",
        ]
        for r in results
    ]
    table = format_table(
        ["fixture", "envoy2mqtt µs", "pyenphase µs", "ratio", "requests e2m/pe", "golden e2m/pe"],
        rows,
    )
    both = [r for r in results if r.ratio is not None]
    lines = [table, ""]
    if both:
        sum_e2m = sum(r.e2m_us or 0.0 for r in both)
        sum_pe = sum(r.pe_us or 0.0 for r in both)
        lines.append(
            f"overall ({len(both)} fixtures measured on both sides): "
            f"sum envoy2mqtt={sum_e2m:.1f} µs sum pyenphase={sum_pe:.1f} µs "
            f"sum ratio={sum_pe / sum_e2m:.2f}x "
            f"geomean ratio={geometric_mean(r.ratio or 0.0 for r in both):.2f}x"
        )
    else:
        e2m_only = [r.e2m_us for r in results if r.e2m_us is not None]
        lines.append(
            f"overall: envoy2mqtt only ({len(e2m_only)} fixtures), "
            f"sum={sum(e2m_only):.1f} µs; no pyenphase comparison"
        )
    return "\n".join(lines)


def render_breakdown(results: list[FixtureResult]) -> str:
    """Parse floors next to the totals: how much of each update is JSON parsing."""
    rows = []
    for r in results:
        rest = None
        if r.e2m_us is not None and r.e2m_decode_us is not None:
            rest = r.e2m_us - r.e2m_decode_us
        best = None
        if r.pe_us is not None and r.e2m_decode_us:
            best = r.pe_us / r.e2m_decode_us
        rows.append(
            [
                r.fixture,
                _fmt(r.e2m_us),
                _fmt(r.e2m_decode_us),
                _fmt(r.e2m_scan_us),
                _fmt(rest),
                _fmt(r.pe_us),
                _fmt(r.pe_parse_us),
                _fmt(best, ".2f"),
            ]
        )
    headers = [
        "fixture",
        "e2m µs",
        "e2m msgspec decode µs",
        "msgspec scan-only µs",
        "e2m rest µs",
        "pe µs",
        "pe orjson parse µs",
        "ratio if e2m rest were 0",
    ]
    lines = [format_table(headers, rows), ""]
    both = [r for r in results if r.pe_us and r.e2m_us and r.e2m_decode_us]
    if both:
        e2m = sum(r.e2m_us or 0.0 for r in both)
        dec = sum(r.e2m_decode_us or 0.0 for r in both)
        pe = sum(r.pe_us or 0.0 for r in both)
        parse = sum(r.pe_parse_us or 0.0 for r in both)
        scan = sum(r.e2m_scan_us or 0.0 for r in both)
        lines.append(
            f"sums over {len(both)} fixtures: envoy2mqtt {e2m:.0f} µs of which msgspec decoding "
            f"{dec:.0f} µs ({dec / e2m:.0%}); pyenphase {pe:.0f} µs of which orjson parsing "
            f"{parse:.0f} µs ({parse / pe:.0%}); ratio with zero non-decode cost: {pe / dec:.2f}x; "
            f"msgspec merely scanning the same bodies: {scan:.0f} µs (ceiling {pe / scan:.2f}x)"
        )
    return "\n".join(lines)


async def _profile_e2m(fixtures: list[Path], repeat: int) -> str:
    sides = []
    for fixture in fixtures:
        side = Envoy2MqttSide(fixture)
        ok, _, _ = await _prepare(side)
        if ok:
            sides.append(side)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        for side in sides:
            await side.update()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    return out.getvalue()


def _import_pyenphase(required: bool) -> Any:
    try:
        return importlib.import_module("pyenphase")
    except ImportError:
        if required:
            raise SystemExit(
                "pyenphase is not importable; see benchmarks/README.md (pyenphase==4.2.0)"
            ) from None
        return None


async def main_async(args: argparse.Namespace) -> int:
    """Run the benchmark and print the table."""
    pe = None if args.no_pyenphase else _import_pyenphase(args.require_pyenphase)
    fixtures = fixture_dirs(args.fixture)
    print(
        f"# decode benchmark: CPU per full update, median of {args.repeat} (warm-up {args.warmup})"
    )
    if args.decode_only:
        print("# --decode-only: envoy2mqtt column = fetches + typed decodes, no conversion")
    print(f"# {machine_facts()}")
    if pe is not None:
        version = getattr(pe, "__version__", None) or importlib.metadata.version("pyenphase")
        print(f"# pyenphase {version} from {Path(pe.__file__).parent}")
    results = []
    for fixture in fixtures:
        gc.collect()
        results.append(
            await bench_fixture(
                fixture,
                pe,
                args.repeat,
                args.warmup,
                breakdown=args.breakdown,
                same_bytes=args.same_bytes,
                decode_only=args.decode_only,
            )
        )
    print(render(results))
    if args.breakdown:
        print()
        print(render_breakdown(results))
    if args.profile:
        print(await _profile_e2m(fixtures, args.repeat))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=300, help="timed updates per fixture")
    parser.add_argument("--warmup", type=int, default=20, help="untimed updates first")
    parser.add_argument("--fixture", action="append", help="only this fixture (repeatable)")
    parser.add_argument("--no-pyenphase", action="store_true", help="envoy2mqtt only")
    parser.add_argument(
        "--require-pyenphase", action="store_true", help="fail when pyenphase is missing"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the envoy2mqtt side")
    parser.add_argument(
        "--same-bytes",
        action="store_true",
        help="serve identical body objects every update (default: alternate two variants)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the JSON parse floors (msgspec decoders alone, orjson on pyenphase bytes)",
    )
    parser.add_argument(
        "--decode-only",
        action="store_true",
        help="envoy2mqtt column: only the fetches and typed decodes of an update (the ceiling)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
