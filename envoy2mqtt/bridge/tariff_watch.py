"""Battery-settings writes watched until they stick or the gateway's cloud undoes them.

On firmware 8.2.42xx and newer (public reports in docs/consumers.md) an Envoy accepts
``PUT /admin/lib/tariff``, shows the new value, and the Enlighten cloud pushes its own tariff
back a minute or two later. After every storage write the tariff is therefore re-read at
fixed offsets (default +10, +30, +90, +180 s, restarted by the next storage write). A write
counts as undone when a check shows another value for the setting it wrote, or a tariff
``date`` (top-level or in the storage settings) other than the one seen in the first read
after the write (the re-read that confirms it, or a later one) that showed all the written
values: the bridge itself never changes those dates.

:class:`TariffWatch` is the decision logic (no I/O); :class:`TariffWatcher` runs the
schedule for one Envoy and keeps its "Battery settings control" state: ``unknown`` until a
watched write ended, ``cloud`` once a write was undone, ``local`` after a write that stuck
for the whole window. Nothing of a watch survives a bridge restart: a write answered by the
previous run is never reported as reverted by the next one, which starts ``unknown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from envoy2mqtt.envoy.command_types import Command
from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.models.data import StorageSettings, Tariff
from envoy2mqtt.envoy.snapshot import UpdateResult
from envoy2mqtt.envoy.updaters.tariff import STORAGE_SETTING_COMMANDS

__all__ = [
    "DEFAULT_OFFSETS",
    "Revert",
    "SettingValue",
    "SettingsControl",
    "TariffWatch",
    "TariffWatcher",
    "read_tariff",
    "written_setting",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_OFFSETS: Final = (10.0, 30.0, 90.0, 180.0)
"""Seconds after a storage write at which the tariff is re-read (``controls.storage_watch``)."""

SettingValue = str | float | bool | None
"""A watched storage setting's value in Envoy terms (mode name, reserve SoC, charge flag)."""

#: How each watched setting is read from the storage settings (the commands declare it).
_SHOWN: Final[dict[str, Callable[[StorageSettings], SettingValue]]] = {
    c.setting: c.read for c in STORAGE_SETTING_COMMANDS
}

_READ_TIMEOUT: Final = 30.0
# Reserve SoC is a float with one decimal on the Envoy; an integer write reads back as x.0.
_SOC_TOLERANCE: Final = 0.05


class SettingsControl(enum.StrEnum):
    """Who has the last word on the battery settings of one gateway, as far as seen."""

    LOCAL = "local"
    CLOUD = "cloud"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Revert:
    """A watched write that did not stick.

    Attributes:
        setting: the storage-settings key the write changed (``mode``, ``reserved_soc``…).
        written: the value the bridge wrote (Envoy terms).
        value: the value on the Envoy now (Envoy terms).
        cause: ``value`` (another value is shown) or ``date`` (a tariff date the bridge
            did not write appeared; the value may even be equal).
    """

    setting: str
    written: SettingValue
    value: SettingValue
    cause: Literal["value", "date"]


def written_setting(command: Command) -> tuple[str, SettingValue] | None:
    """The storage-settings key and Envoy-side value ``command`` writes (None: no tariff write)."""
    if isinstance(command, STORAGE_SETTING_COMMANDS):
        return command.setting, command.setting_value()
    return None


def _shown(storage: StorageSettings | None, setting: str) -> SettingValue:
    read = _SHOWN.get(setting)
    return None if storage is None or read is None else read(storage)


def _same(setting: str, shown: SettingValue, written: SettingValue) -> bool:
    if setting == "reserved_soc" and isinstance(shown, int | float):
        return isinstance(written, int | float) and abs(shown - written) < _SOC_TOLERANCE
    return bool(shown == written)


def _dates(tariff: Tariff) -> tuple[str | None, str | None]:
    storage = tariff.storage_settings
    return tariff.date, storage.date if storage is not None else None


@dataclass(slots=True)
class _Pending:
    written: SettingValue
    outcome: asyncio.Future[Revert | None]


class TariffWatch:
    """Which written settings are still expected, and what each tariff read says about them."""

    def __init__(self) -> None:
        """Nothing watched; control unknown."""
        self.control = SettingsControl.UNKNOWN
        self._pending: dict[str, _Pending] = {}
        self._reverted = False  # in the current window
        self._dates: tuple[str | None, str | None] | None = None

    @property
    def watching(self) -> bool:
        """Whether a written setting is still expected."""
        return bool(self._pending)

    def begin(
        self, setting: str, written: SettingValue, confirmed: Tariff | None = None
    ) -> asyncio.Future[Revert | None]:
        """Expect ``setting`` = ``written`` from now on; resolves to a Revert or None (stuck).

        An earlier write of the same setting is superseded: its future resolves to None
        (the user replaced it; nothing to report), and only the new value is expected.
        ``confirmed`` is the tariff read right after the write (None if that read failed):
        its dates are the expected ones when it shows every written value; otherwise
        they are taken from the first later read that does.
        """
        previous = self._pending.pop(setting, None)
        if previous is not None and not previous.outcome.done():
            previous.outcome.set_result(None)
        outcome: asyncio.Future[Revert | None] = asyncio.get_running_loop().create_future()
        self._pending[setting] = _Pending(written, outcome)
        self._dates = None
        self._reverted = False
        if confirmed is not None and not self._changed(confirmed):
            self._dates = _dates(confirmed)
        return outcome

    def _changed(self, tariff: Tariff) -> list[Revert]:
        """The pending writes ``tariff`` shows another value for."""
        storage = tariff.storage_settings
        shown = {name: _shown(storage, name) for name in self._pending}
        return [
            Revert(name, p.written, shown[name], "value")
            for name, p in self._pending.items()
            if storage is None or not _same(name, shown[name], p.written)
        ]

    def check(self, tariff: Tariff | None) -> list[Revert]:
        """Compare one tariff read with what was written; the reverts it shows."""
        if tariff is None or tariff.storage_settings is None or not self._pending:
            return []
        reverts = self._changed(tariff)
        if not reverts and self._dates is None:
            self._dates = _dates(tariff)  # the first read showing all written values
        elif self._dates is not None and _dates(tariff) != self._dates:
            done = {r.setting for r in reverts}
            storage = tariff.storage_settings
            reverts += [
                Revert(name, p.written, _shown(storage, name), "date")
                for name, p in self._pending.items()
                if name not in done
            ]
        for revert in reverts:
            self._pending.pop(revert.setting).outcome.set_result(revert)
        if reverts:
            self.control = SettingsControl.CLOUD
            self._reverted = True
        return reverts

    def finish(self, *, verified: bool) -> None:
        """The window is over: what is still expected stuck (``verified``: the last read worked).

        ``local`` needs a write that stuck in a window without any revert; without a
        successful last read nothing is concluded and the control state stays.
        """
        stuck = bool(self._pending) and verified and not self._reverted
        self.abandon()
        if stuck:
            self.control = SettingsControl.LOCAL

    def abandon(self) -> None:
        """Stop watching (shutdown): every pending write resolves to None, nothing is said."""
        for pending in self._pending.values():
            if not pending.outcome.done():
                pending.outcome.set_result(None)
        self._pending.clear()
        self._dates = None


async def read_tariff(update: Callable[[list[str]], Awaitable[UpdateResult]]) -> Tariff | None:
    """Re-read the ``tariff`` group through ``update`` (the worker's); None when it failed."""
    try:
        async with asyncio.timeout(_READ_TIMEOUT):
            result = await update(["tariff"])
    except (EnvoyError, TimeoutError, OSError) as exc:
        _LOGGER.debug("tariff watch read failed error=%s", type(exc).__name__)
        return None
    if "tariff" not in result.ok:
        return None
    return result.snapshot.data.tariff


Reader = Callable[[], Awaitable[Tariff | None]]
"""Reads ``/admin/lib/tariff`` now; returns the tariff, or None when the read failed."""
Publish = Callable[[], Awaitable[None]]
"""Publishes the storage state (called after every successful check)."""


class TariffWatcher:
    """Runs the re-read schedule of one Envoy after storage writes.

    A write in progress (see :meth:`writing`) invalidates tariff reads still in flight: a
    read answered while the Envoy applies a newer write must not be compared with an older
    write's expected value (that would report a false revert).
    """

    def __init__(
        self,
        read: Reader,
        publish: Publish,
        offsets: Sequence[float] = DEFAULT_OFFSETS,
        describe: Callable[[], str] = lambda: "",
    ) -> None:
        """Watch with ``read`` at ``offsets``; ``describe`` names the Envoy in logs."""
        self.watch = TariffWatch()
        self._read = read
        self._publish = publish
        self._offsets = tuple(sorted(offsets))
        self._describe = describe
        self._task: asyncio.Task[None] | None = None
        self._restart = asyncio.Event()
        self._start = 0.0
        self._generation = 0
        self._writes = 0
        self._warned = False

    @property
    def control(self) -> SettingsControl:
        """The gateway's battery-settings control state."""
        return self.watch.control

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around a storage write: reads in flight meanwhile are not checked."""
        self._writes += 1
        self._generation += 1
        try:
            yield
        finally:
            self._writes -= 1
            self._generation += 1

    def begin(
        self, command: Command, confirmed: Tariff | None = None
    ) -> asyncio.Future[Revert | None] | None:
        """Watch the write ``command`` just made (None: not a storage write, or no window).

        ``confirmed``: the tariff re-read right after the write, None if that read failed.
        """
        setting = written_setting(command)
        if setting is None or not self._offsets:
            return None
        outcome = self.watch.begin(*setting, confirmed)
        self._start = asyncio.get_running_loop().time()  # the window restarts at each write
        self._generation += 1
        self._restart.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="tariff-watch")
        return outcome

    async def stop(self) -> None:
        """Cancel the schedule; pending writes resolve to None (nothing is reported)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.watch.abandon()

    async def _run(self) -> None:
        while self._restart.is_set():
            self._restart.clear()
            verified = await self._window(self._start)
            if self._restart.is_set():
                continue
            before = self.watch.control
            self.watch.finish(verified=verified)
            if self.watch.control is not before:
                await self._publish()

    async def _window(self, start: float) -> bool:
        """One pass over the offsets from ``start``; whether the last read succeeded."""
        loop = asyncio.get_running_loop()
        verified = False
        for offset in self._offsets:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._restart.wait(), start + offset - loop.time())
            if self._restart.is_set():
                return False
            generation = self._generation
            tariff = await self._read()
            if generation != self._generation or self._writes:
                verified = False
                continue  # a newer write started meanwhile: this read proves nothing
            verified = tariff is not None
            if tariff is None:
                continue
            for revert in self.watch.check(tariff):
                self._log(revert)
            await self._publish()
            if not self.watch.watching:
                return verified
        return verified

    def _log(self, revert: Revert) -> None:
        level = logging.INFO if self._warned else logging.WARNING
        self._warned = True
        _LOGGER.log(
            level,
            "battery settings reverted %s setting=%s written=%s now=%s cause=%s: the gateway's "
            "cloud (Enlighten) configuration replaced the local change",
            self._describe(),
            revert.setting,
            revert.written,
            revert.value,
            "tariff date changed" if revert.cause == "date" else "value changed",
        )
