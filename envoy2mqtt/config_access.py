"""Why a config file cannot be read, in terms a container user can act on.

The Docker image runs as uid 10001; a ``config.yaml`` that its owner made private
(``chmod 600``) or a ``config/`` directory that only its owner may enter cannot be read by
that uid. The message names the uid the process runs as, the file's owner and mode, and the
two fixes (give that uid access, or move the secrets to the environment).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def config_exists(path: Path) -> bool:
    """Like ``path.exists()``, but a path we may not look at counts as existing.

    Reading it then fails with :func:`unreadable_reason` instead of a traceback.
    """
    try:
        return path.exists()
    except PermissionError:
        return True


def _blocking_directory(path: Path) -> Path | None:
    effective = os.access in os.supports_effective_ids  # the uid that opens the file
    for parent in reversed(path.absolute().parents):
        if not os.access(parent, os.X_OK, effective_ids=effective):
            return parent
    return None


def unreadable_reason(path: Path, exc: OSError) -> str:
    """The ``<path>: cannot read config file (...)`` line for ``exc``."""
    reason = exc.strerror or str(exc)
    if exc.errno != errno.EACCES:
        return f"{path}: cannot read config file ({reason})"
    uid = os.geteuid()
    fixes = (
        f"give uid {uid} read access (e.g. chown {uid} {path}; the file may stay mode 0600), "
        "or keep the secrets in ENVOY2MQTT_* environment variables and make the file "
        "readable for all (chmod 644)"
    )
    blocked = _blocking_directory(path)
    if blocked is not None:
        return (
            f"{path}: cannot read config file ({reason}): envoy2mqtt runs as uid {uid}, "
            f"which may not enter the directory {blocked}; let uid {uid} in "
            f"(e.g. chmod o+x {blocked} or chown {uid} {blocked})"
        )
    owner = ""
    try:
        info = path.stat()
        owner = f", the file belongs to uid {info.st_uid}"
        owner += f" with mode {stat.S_IMODE(info.st_mode):04o}"
    except OSError:
        pass
    return (
        f"{path}: cannot read config file ({reason}): envoy2mqtt runs as uid {uid}{owner}; {fixes}"
    )
