"""Values in error messages, written in JSON terms.

Command payloads arrive as JSON or plain text, so a rejected value is named the way the
user wrote it (``true``, ``null``, ``"turbo"``), never as a Python literal (``True``,
``None``, ``'turbo'``).
"""

from __future__ import annotations

import json
from typing import Any, Final

MAX_SHOWN: Final = 40


def json_term(value: Any) -> str:
    """``value`` as short JSON text (at most :data:`MAX_SHOWN` characters, then ``...``)."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(str(value), ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
