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


def _listens(
    port: int, proc: subprocess.Popen[bytes], log_file: Path, timeout: float = 10.0
) -> bool:
    """Whether ``proc`` listens on ``port`` within ``timeout``; False as soon as it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False  # e.g. the port was taken between free_port() and the bind
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except OSError:
            time.sleep(0.02)
            continue
        # Something listens: ours only if mosquitto says it opened the port (not a process
        # that took the port first, which mosquitto reports before exiting).
        log = log_file.read_text(errors="replace")
        if f"listen socket on port {port}" in log:
            return proc.poll() is None
        time.sleep(0.02)
    return False


@dataclass
class Mosquitto:
    """A controllable mosquitto process; ``stop()``/``start()`` simulate a broker restart."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra_config: str = ""
    proc: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"
    _listened: bool = False

    def start(self) -> None:
        """Start (or restart) the broker on the same port and wait until it listens.

        A first start whose random port another process took meanwhile moves to a fresh
        port (tests run in parallel processes); a restart keeps its port or fails.
        """
        for _attempt in range(3):
            if self._spawn():
                self._listened = True
                return
            self.stop()
            if self._listened:
                break
            self.port = free_port()
        log = (self.workdir / "mosquitto.log").read_text(errors="replace")[-500:]
        msg = f"mosquitto did not listen on {self.port}: {log}"
        raise RuntimeError(msg)

    def _spawn(self) -> bool:
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
        return _listens(self.port, self.proc, self.workdir / "mosquitto.log")

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
