"""A throw-away mosquitto broker on 127.0.0.1 for the benchmarks (never another address)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:``port``.

    Raises:
        RuntimeError: nothing listened within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


class Broker:
    """A restartable mosquitto on a fixed 127.0.0.1 port (stop/start keep the port)."""

    def __init__(self, workdir: Path, *, tcp_nodelay: bool = False) -> None:
        """Prepare (not start) the broker; its config lives in ``workdir``."""
        self.port = free_port()
        self.workdir = workdir
        self.tcp_nodelay = tcp_nodelay
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start on the same port and wait until it listens."""
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 100000\n"
            f"set_tcp_nodelay {'true' if self.tcp_nodelay else 'false'}\n"
        )
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen(
            [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_listening(self.port)

    def stop(self) -> None:
        """SIGTERM (then SIGKILL) the broker."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None


@contextlib.contextmanager
def running_broker(workdir: Path, *, tcp_nodelay: bool = False) -> Iterator[Broker]:
    """A started :class:`Broker`, stopped on exit."""
    broker = Broker(workdir, tcp_nodelay=tcp_nodelay)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextlib.contextmanager
def mosquitto(*, tcp_nodelay: bool = False) -> Iterator[int]:
    """Run mosquitto on a random 127.0.0.1 port for the duration; yield the port.

    ``tcp_nodelay`` sets mosquitto's ``set_tcp_nodelay`` (off by default in mosquitto: small
    packets such as PUBACKs can then wait for a delayed ACK, ~40 ms on Linux).
    """
    with (
        tempfile.TemporaryDirectory(prefix="bench-mosquitto-") as tmp,
        running_broker(Path(tmp), tcp_nodelay=tcp_nodelay) as broker,
    ):
        yield broker.port
