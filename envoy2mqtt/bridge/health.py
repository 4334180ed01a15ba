"""Counters and the ``bridge/health`` / ``bridge/info`` payloads (no I/O besides /proc)."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_STATM = Path("/proc/self/statm")
_FD_DIR = Path("/proc/self/fd")


def rss_bytes() -> int:
    """Resident set size of this process in bytes (peak RSS where /proc is missing)."""
    try:
        resident_pages = int(_STATM.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is KiB on Linux, bytes on macOS.
        return int(peak if sys.platform == "darwin" else peak * 1024)
    return resident_pages * resource.getpagesize()


def open_fds() -> int:
    """Open file descriptors of this process (-1 where /proc is missing)."""
    try:
        return len(os.listdir(_FD_DIR))
    except OSError:
        return -1


def task_count() -> int:
    """asyncio tasks alive in the running loop (0 outside a loop); a leak shows as growth."""
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:
        return 0


@dataclass
class EnvoyStats:
    """Per-Envoy counters shown in ``bridge/health`` and ``bridge/info``."""

    host: str
    serial: str | None = None
    polls_ok: int = 0
    polls_failed: int = 0
    commands_ok: int = 0
    commands_failed: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    current_error: str | None = None
    """``last_error`` until the Envoy answers again (``bridge/info`` shows only this one)."""
    last_poll_at: float | None = None
    online: bool = False
    stale: list[str] = field(default_factory=list)

    def poll_ok(self) -> None:
        """Count a successful poll."""
        self.polls_ok += 1
        self.last_poll_at = time.time()
        self.answered()

    def answered(self) -> None:
        """The Envoy answered (a poll or its setup succeeded): no error is current."""
        self.current_error = None

    def poll_failed(self, error: str) -> None:
        """Count a failed poll and remember why (the message must be secret-free)."""
        self.polls_failed += 1
        self.error(error)

    def error(self, error: str) -> None:
        """Remember the last error without counting a poll."""
        self.last_error = self.current_error = error
        self.last_error_at = time.time()

    def as_health(self) -> dict[str, object]:
        """The per-Envoy part of ``bridge/health``."""
        out: dict[str, object] = {
            "host": self.host,
            "online": self.online,
            "polls_ok": self.polls_ok,
            "polls_failed": self.polls_failed,
            "commands_ok": self.commands_ok,
            "commands_failed": self.commands_failed,
        }
        if self.serial:
            out["serial"] = self.serial
        if self.stale:
            out["stale"] = list(self.stale)
        if self.last_error is not None:
            out["last_error"] = self.last_error
            out["last_error_at"] = round(self.last_error_at or 0.0)
        if self.last_poll_at is not None:
            out["last_poll_at"] = round(self.last_poll_at)
        return out


@dataclass
class BridgeStats:
    """Process-wide counters."""

    started_monotonic: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    messages_published: int = 0
    last_error: str | None = None

    def uptime(self) -> float:
        """Seconds since the bridge started."""
        return time.monotonic() - self.started_monotonic


def health_payload(stats: BridgeStats, envoys: list[EnvoyStats]) -> dict[str, object]:
    """Build the ``bridge/health`` JSON object."""
    last_error = next(
        (
            e.last_error
            for e in sorted(envoys, key=lambda e: e.last_error_at or 0.0, reverse=True)
            if e.last_error
        ),
        stats.last_error,
    )
    out: dict[str, object] = {
        "uptime": round(stats.uptime(), 1),
        "messages_published": stats.messages_published,
        "rss_bytes": rss_bytes(),
        "open_fds": open_fds(),
        "tasks": task_count(),
        "envoys": [e.as_health() for e in envoys],
    }
    if last_error is not None:
        out["last_error"] = last_error
    return out
