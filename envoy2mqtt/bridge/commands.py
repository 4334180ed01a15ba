"""``/set`` commands: find the Envoy, validate with the catalogue, execute, answer.

Validation happens before any HTTP request: an unknown Envoy, a disabled control or a bad
payload is answered with an error result and the Envoy never sees a request. After a
successful write the client re-reads the affected groups, and the bridge publishes what
the Envoy then reports (the device is the source of truth). A battery-settings write is
then watched (:mod:`envoy2mqtt.bridge.tariff_watch`); if the gateway undoes it, a second
``reverted`` result follows the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass

from envoy2mqtt.bridge.poll_rules import describe
from envoy2mqtt.bridge.publish import snapshot_of
from envoy2mqtt.bridge.tariff_watch import Revert, SettingsControl, SettingValue, written_setting
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.catalog.commands import CommandError, parse_command
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.storage import STORAGE_MODES
from envoy2mqtt.catalog.words import command_word
from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.models.data import Tariff
from envoy2mqtt.mqtt.router import CommandResult

_LOGGER = logging.getLogger(__name__)

FindWorker = Callable[[str], EnvoyWorker | None]
"""The worker whose (sanitised) serial is a ``/set`` topic's serial level, if any."""


class CommandExecutor:
    """The router's command handler: finds the worker, validates, executes, answers."""

    def __init__(self, find_worker: FindWorker, controls: ControlFlags) -> None:
        """Serve commands for the workers ``find_worker`` knows, as ``controls`` allow."""
        self._find = find_worker
        self._controls = controls

    async def handle(
        self, serial: str, control: str, ident: str | None, payload: bytes
    ) -> CommandResult:
        """Validate and execute one command; always returns exactly one result."""
        worker = self._find(serial)
        if worker is None:
            return CommandResult.failure(f"unknown Envoy serial {serial!r}")
        snapshot = snapshot_of(worker)
        if snapshot is None or not worker.availability.online:
            return CommandResult.failure(f"Envoy {serial} is not available")
        try:
            parsed = parse_command(snapshot, control, ident, payload, self._controls)
        except CommandError as exc:
            return CommandResult.failure(exc.message, exc.transaction)
        watcher = worker.tariff_watch
        storage_write = written_setting(parsed.command) is not None
        cloud = storage_write and watcher.control is SettingsControl.CLOUD
        before = _tariff(worker)
        try:
            with watcher.writing() if storage_write else contextlib.nullcontext():
                await worker.execute(parsed.command)
        except EnvoyError as exc:
            _LOGGER.warning(
                "command failed serial=%s control=%s error=%s", serial, control, describe(exc)
            )
            return CommandResult.failure(str(exc) or type(exc).__name__, parsed.transaction)
        after = _tariff(worker)  # a new object only when the re-read after the write worked
        outcome = watcher.begin(parsed.command, after if after is not before else None)
        return CommandResult(
            "ok",
            value=parsed.value,
            transaction=parsed.transaction,
            warning=CLOUD_WARNING if cloud else None,
            follow_up=None if outcome is None else _Reverted(outcome),
        )


def _tariff(worker: EnvoyWorker) -> Tariff | None:
    return None if worker.snapshot is None else worker.snapshot.data.tariff


CLOUD_WARNING = (
    "this gateway's cloud configuration replaced an earlier local battery-settings change; "
    "this change may be replaced too (watch for a 'reverted' result)"
)


@dataclass(frozen=True, slots=True)
class _Reverted:
    """The follow-up of a watched storage write: a ``reverted`` result, or None if it stuck.

    An awaitable object rather than a coroutine, so a result dropped at shutdown (before
    its follow-up was scheduled) leaves no "coroutine was never awaited" warning behind.
    """

    outcome: asyncio.Future[Revert | None]

    def __await__(self) -> Generator[object, None, CommandResult | None]:
        revert = yield from self.outcome.__await__()
        if revert is None:
            return None
        return CommandResult(
            "reverted", value=command_value(revert.setting, revert.value), error=revert_text(revert)
        )


def revert_text(revert: Revert) -> str:
    """The plain-words ``error`` of a ``reverted`` result."""
    if revert.cause == "date":
        why = "a tariff pushed by the cloud arrived after the local change"
    else:
        why = f"the Envoy shows {command_value(revert.setting, revert.value)!r} again"
    return (
        "the gateway's cloud configuration replaced the local change "
        f"({why}); on this firmware the battery settings are managed from the "
        "Enphase cloud (Enlighten app), change them there"
    )


def command_value(setting: str, value: SettingValue) -> SettingValue:
    """An Envoy-side storage setting in the vocabulary of its ``/set`` (as results echo it)."""
    if setting == "mode":
        return command_word(STORAGE_MODES, value) or value
    if setting == "charge_from_grid" and isinstance(value, bool):
        return "ON" if value else "OFF"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
