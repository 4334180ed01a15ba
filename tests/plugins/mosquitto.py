"""A real mosquitto broker on 127.0.0.1 with a random port, one per test that asks for it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    msg = f"mosquitto did not listen on {port} within {timeout}s"
    raise RuntimeError(msg)


@dataclass
class Mosquitto:
    """A controllable mosquitto process; ``stop()``/``start()`` simulate a broker restart."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra_config: str = ""
    proc: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    def start(self) -> None:
        """Start (or restart) the broker on the same port and wait until it listens."""
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            f"{self.extra_config}\n"
        )
        self.proc = subprocess.Popen(
            [exe, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "mosquitto.log").open("ab"),
        )
        _wait_listening(self.port)

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh mosquitto broker on 127.0.0.1:<random port>."""
    broker = Mosquitto(workdir=tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
