"""Token cache: one file per gateway serial, never readable by other users."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

_SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class TokenCache:
    """Stores tokens as ``<dir>/<serial>.jwt`` (file 0600, directory 0700 when created here)."""

    def __init__(self, directory: str | Path) -> None:
        """Use ``directory`` (``~`` is expanded; created lazily on the first store)."""
        self.directory = Path(directory).expanduser()

    def path_for(self, serial: str) -> Path:
        """Return the cache file of ``serial``.

        Raises:
            ValueError: the serial contains characters unsafe in a file name.
        """
        if not _SERIAL_RE.match(serial):
            msg = f"invalid serial for the token cache: {serial!r}"
            raise ValueError(msg)
        return self.directory / f"{serial}.jwt"

    def load(self, serial: str) -> str | None:
        """Return the cached token of ``serial`` or None (missing or unreadable: logged)."""
        path = self._path_or_none(serial)
        if path is None:
            return None
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            _LOGGER.warning("token cache unreadable path=%s error=%s", path, exc.__class__.__name__)
            return None
        return text or None

    def store(self, serial: str, token: str) -> bool:
        """Atomically write ``token`` for ``serial``; returns False (logged) when that fails.

        The file is created 0600 under a temporary name and renamed into place, so no reader
        ever sees a partial or world-readable token.
        """
        path = self._path_or_none(serial)
        if path is None:
            return False
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            self._ensure_directory()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(tmp, flags, 0o600)
            try:
                os.fchmod(fd, 0o600)  # the mode argument is filtered by umask; be explicit
                os.write(fd, token.encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except (OSError, UnicodeEncodeError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            _LOGGER.warning(
                "token cache write failed path=%s error=%s", path, exc.__class__.__name__
            )
            return False
        _LOGGER.debug("token cache stored path=%s", path)
        return True

    def _path_or_none(self, serial: str) -> Path | None:
        try:
            return self.path_for(serial)
        except ValueError:
            _LOGGER.warning("token cache skipped: unusable serial=%r", serial)
            return None

    def _ensure_directory(self) -> None:
        if self.directory.is_dir():
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
