"""Dockerfile, compose.yaml and docker/mosquitto.conf: what can be checked without a daemon.

compose.yaml must parse and point at files that exist; the shipped mosquitto.conf must be
accepted by a real mosquitto; the image's numeric user must be the uid the docs name; and a
config that uid cannot read must end the bridge with a message naming the uid and the fix
(run for real as that uid when the tests run as root).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from envoy2mqtt.cli import build_parser, main
from tests.plugins.mosquitto import _wait_listening, free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
MOSQUITTO_CONF = ROOT / "docker" / "mosquitto.conf"
IMAGE_UID = 10001


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _instruction(name: str) -> list[str]:
    return [
        line.split(None, 1)[1]
        for line in DOCKERFILE.read_text().splitlines()
        if line.startswith(f"{name} ")
    ]


def test_compose_runs_mosquitto_and_the_bridge_with_config_and_token_volumes() -> None:
    services = _compose()["services"]
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:")
    bridge = services["envoy2mqtt"]
    assert bridge["build"] == "."
    assert bridge["environment"]["ENVOY2MQTT_MQTT__HOST"] == "mosquitto"
    assert "mosquitto" in bridge["depends_on"]
    targets = {v.split(":")[1]: v.split(":")[0] for v in bridge["volumes"]}
    assert targets["/config"] == "./config"
    assert "ENVOY2MQTT_TOKEN_CACHE_DIR=/data/tokens" in DOCKERFILE.read_text()
    assert targets["/data"] in _compose()["volumes"]  # a named volume: survives re-creation


def test_compose_mounts_files_that_exist() -> None:
    for service in _compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(("./", "/")) and source != "./config":  # ./config is yours
                assert (ROOT / source).is_file(), source
    conf_mount = next(v for v in _compose()["services"]["mosquitto"]["volumes"] if "conf" in v)
    assert conf_mount.startswith("./docker/mosquitto.conf:/mosquitto/config/mosquitto.conf")


def test_shipped_mosquitto_conf_sets_nodelay_and_a_real_mosquitto_accepts_it(
    tmp_path: Path,
) -> None:
    text = MOSQUITTO_CONF.read_text()
    assert re.search(r"^set_tcp_nodelay true$", text, re.M)
    assert re.search(r"^listener 1883$", text, re.M)
    port = free_port()
    local = text.replace("listener 1883", f"listener {port} 127.0.0.1")
    # mosquitto drops root to its own user, which may not write here: keep the db in memory
    local = local.replace("persistence true", "persistence false")
    (tmp_path / "mosquitto.conf").write_text(local)
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [exe, "-c", str(tmp_path / "mosquitto.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port)  # mosquitto exits at once on an unknown or invalid option
        assert proc.poll() is None
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode()
    assert "Error" not in out, out


def test_image_user_is_numeric_and_the_uid_the_docs_name() -> None:
    assert _instruction("USER") == [f"{IMAGE_UID}:{IMAGE_UID}"]
    assert f"--uid {IMAGE_UID}" in DOCKERFILE.read_text()
    assert _instruction("CMD") == ['["run", "--config", "/config/config.yaml"]']
    for doc in (ROOT / "README.md", COMPOSE, DOCKERFILE):
        assert f"chown {IMAGE_UID}" in doc.read_text(), doc
    for line in (ROOT / "README.md").read_text().splitlines():
        if "chmod 600" in line:  # a private file is only readable in the image when chowned
            assert f"chown {IMAGE_UID}" in line, line


@pytest.fixture
def private_config() -> Iterator[Path]:
    """A valid config.yaml, mode 0600, owned by us, in a directory everyone may enter."""
    directory = Path(tempfile.mkdtemp(prefix="envoy2mqtt-unreadable-"))
    directory.chmod(0o755)
    config = directory / "config.yaml"
    config.write_text("mqtt:\n  host: 127.0.0.1\nenvoys:\n  - host: envoy.local\n")
    config.chmod(0o600)
    try:
        yield config
    finally:
        shutil.rmtree(directory)


@contextlib.contextmanager
def image_uid() -> Iterator[int]:
    """Act as uid/gid 10001 (the image's user) when we are root, else stay ourselves.

    In-process (``seteuid``): the interpreter lives under /root, which that uid could not
    even start from, and the file checks are the kernel's either way.
    """
    if os.geteuid() != 0:
        yield os.geteuid()
        return
    os.setegid(IMAGE_UID)
    os.seteuid(IMAGE_UID)
    try:
        yield IMAGE_UID
    finally:
        os.seteuid(0)
        os.setegid(0)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, int, str]:
    build_parser()  # import every command module before giving up root
    with image_uid() as uid:
        code = main(list(args))
    return uid, code, capsys.readouterr().err


def test_unreadable_config_names_the_uid_owner_and_fix(
    private_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0:
        private_config.chmod(0)  # as a normal user: a file we may not read
    uid, code, message = _cli(capsys, "run", "--config", str(private_config))
    assert code == 2, message
    assert f"{private_config}: cannot read config file (Permission denied)" in message
    assert f"runs as uid {uid}" in message
    assert f"belongs to uid {private_config.stat().st_uid}" in message
    assert f"chown {uid} {private_config}" in message
    assert "ENVOY2MQTT_" in message


def test_config_in_a_directory_the_uid_cannot_enter_is_explained(
    private_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private_config.parent.chmod(0o700 if os.geteuid() == 0 else 0o600)
    try:
        uid, code, message = _cli(capsys, "check-config", "--config", str(private_config))
    finally:
        private_config.parent.chmod(0o755)
    assert code == 1, message
    assert f"runs as uid {uid}, which may not enter the directory" in message
    assert f"{private_config.parent};" in message


def test_group_readable_config_works_for_the_image_user(
    private_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's alternative: chgrp 10001 + chmod 640 keeps the file editable by you."""
    if os.geteuid() != 0:
        pytest.skip("only root can hand a file to group 10001")
    os.chown(private_config, 0, IMAGE_UID)
    private_config.chmod(0o640)
    uid, code, out = _cli(capsys, "check-config", "--config", str(private_config))
    assert uid == IMAGE_UID
    assert code == 0, out
