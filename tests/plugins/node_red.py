"""A real Node-RED for tests: installed from npm once into a cache outside the repository.

``node_red_home`` installs ``node-red@NODE_RED_VERSION`` into
``~/.cache/envoy2mqtt-tests/node-red/<version>`` (``ENVOY2MQTT_TEST_CACHE`` moves the
root) the first time it is needed, under a file lock so parallel test runs share one
install, and returns that directory. ``NodeRed`` runs it headless on 127.0.0.1 with a
private user directory and a ``settings.js`` written by the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

# 4.1.x runs on Node.js >= 18.5 (Debian bookworm ships 18.19); 5.x needs Node.js >= 22.9.
NODE_RED_VERSION = "4.1.15"
NODE_MIN = (18, 5)
_INSTALL_TIMEOUT = 600


def cache_root() -> Path:
    """Where downloaded test tools live (never inside the repository)."""
    override = os.environ.get("ENVOY2MQTT_TEST_CACHE")
    base = Path(override) if override else Path.home() / ".cache" / "envoy2mqtt-tests"
    return base / "node-red"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = (
            f"the Node-RED tests need {name!r} (Node.js >= 18.5 and npm): "
            "apt-get install -y nodejs npm  (.ci/run installs them)"
        )
        raise RuntimeError(msg)
    return path


def install_node_red(root: Path, version: str = NODE_RED_VERSION) -> Path:
    """Install Node-RED ``version`` under ``root`` unless it is there; return its red.js."""
    home = root / version
    red = home / "node_modules" / "node-red" / "red.js"
    if red.is_file():
        return red
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be installing right now
        if red.is_file():
            return red
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
        try:
            npm = subprocess.run(
                [
                    _tool("npm"), "install", "--prefix", str(staging), "--omit=dev",
                    "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error",
                    "--cache", str(root / ".npm-cache"), f"node-red@{version}",
                ],
                check=False, timeout=_INSTALL_TIMEOUT, capture_output=True, text=True,
            )  # fmt: skip
            if npm.returncode != 0:
                msg = f"npm install node-red@{version} failed:\n{npm.stderr[-2000:]}"
                raise RuntimeError(msg)
            staging.chmod(0o755)  # mkdtemp made it private
            staging.rename(home)  # only a complete install ever appears under its name
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return red


def _check_node() -> None:
    out = subprocess.run(
        [_tool("node"), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    version = tuple(int(part) for part in out.lstrip("v").split(".")[:2])
    if version < NODE_MIN:
        msg = f"Node-RED {NODE_RED_VERSION} needs Node.js >= 18.5, found {out}"
        raise RuntimeError(msg)


@pytest.fixture(scope="session")
def node_red_js() -> Path:
    """Path to red.js of the cached Node-RED install (installed on first use)."""
    _check_node()
    return install_node_red(cache_root())


def settings_js(port: int = 0) -> str:
    """A Node-RED settings.js: loopback only, no credentials file, nothing phoned home.

    Port 0 lets the kernel pick a free port when Node-RED listens (no port picked earlier
    that another process could take meanwhile); English log lines are what start() reads.
    """
    settings: dict[str, Any] = {
        "uiHost": "127.0.0.1",
        "uiPort": port,
        "lang": "en-US",
        "flowFile": "flows.json",
        "credentialSecret": False,
        "httpNodeRoot": False,
        "editorTheme": {"tours": False, "projects": {"enabled": False}},
        "diagnostics": {"enabled": False, "ui": False},
        "telemetry": {"enabled": False, "updateNotification": False},
        "externalModules": {"autoInstall": False, "palette": {"allowInstall": False}},
        "logging": {"console": {"level": "info", "metrics": False, "audit": False}},
    }
    return f"module.exports = {json.dumps(settings, indent=2)};\n"


#: Node-RED's line once its HTTP server listens (its listen callback), with the real port.
_LISTENING = re.compile(r"Server now running at http://127\.0\.0\.1:(\d+)/")
#: Node-RED's line once the flows run (logged before or after the server listens).
_FLOWS_STARTED = "Started flows"


class NodeRed:
    """One headless Node-RED process serving ``flows`` on ``127.0.0.1:<port>``.

    The port is chosen by the kernel when Node-RED listens; :attr:`port` is known once
    :meth:`start` has returned.
    """

    def __init__(self, red_js: Path, user_dir: Path, flows: list[Any]) -> None:
        """Write the user directory (settings.js, flows.json); call :meth:`start` next."""
        self.red_js, self.user_dir, self.port = red_js, user_dir, 0
        user_dir.mkdir(parents=True, exist_ok=True)
        (user_dir / "settings.js").write_text(settings_js())
        (user_dir / "flows.json").write_text(json.dumps(flows))
        self.log = user_dir / "node-red.log"
        self.proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The admin API root."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start Node-RED; return once its HTTP server accepts and its flows run.

        Readiness is what Node-RED itself reports: "Server now running at ..." is logged
        from the HTTP server's listen callback (the socket accepts from then on), and
        "Started flows" once the flows run; these come in either order. Raises
        AssertionError with Node-RED's output if it exits first (or within a minute).
        """
        self.proc = await asyncio.create_subprocess_exec(
            _tool("node"), str(self.red_js),
            "--userDir", str(self.user_dir), "--settings", str(self.user_dir / "settings.js"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await asyncio.wait_for(self._read_until_ready(), 60)
        except TimeoutError:
            msg = f"Node-RED not ready within 60 s:\n{self.tail()}"
            raise AssertionError(msg) from None
        self._pump = asyncio.create_task(self._read_rest())

    async def _read_until_ready(self) -> None:
        flows_started = False
        while not (flows_started and self.port):
            line = await self._line()
            if line is None:
                code = await self._exit_code()
                msg = f"Node-RED exited (code {code}) before it was ready:\n{self.tail()}"
                raise AssertionError(msg)
            flows_started = flows_started or _FLOWS_STARTED in line
            if listening := _LISTENING.search(line):
                self.port = int(listening[1])

    async def _read_rest(self) -> None:
        while await self._line() is not None:
            pass

    async def _line(self) -> str | None:
        """The next console line (also appended to :attr:`log`); None once the output ends."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            return None
        with self.log.open("ab") as log:
            log.write(line)
        return line.decode(errors="replace")

    async def _exit_code(self) -> int | None:
        assert self.proc is not None
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.proc.wait(), 10)
        return None

    def tail(self, lines: int = 30) -> str:
        """The end of Node-RED's console log (for failure messages)."""
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self) -> None:
        """Stop Node-RED (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._pump is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._pump, 5)
