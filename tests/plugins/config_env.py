"""``config_env``: no ``ENVOY2MQTT_*`` variable of the caller's shell, cwd in ``tmp_path``.

For the tests of configuration loading: an override left in the environment, or a
``./config.yaml`` where pytest was started, would change what they load.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def config_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Removes every ``ENVOY2MQTT_*`` variable and changes into ``tmp_path``."""
    for key in list(os.environ):
        if key.upper().startswith("ENVOY2MQTT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray ./config.yaml


def write_config(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    """``tmp_path/config.yaml`` holding ``text``, owner-only unless ``mode`` says otherwise."""
    path = tmp_path / "config.yaml"
    path.write_text(text)
    path.chmod(mode)
    return path
