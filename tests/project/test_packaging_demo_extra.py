"""The embedded broker (amqtt) is the ``demo`` extra: plain installs work without it.

amqtt is hidden from a child interpreter with ``sys.modules["amqtt"] = None`` (every import
of it then raises ImportError), which is what a ``pip install envoy2mqtt`` without the extra
looks like to our code.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_HIDE_AMQTT = "import sys; sys.modules['amqtt'] = None; "


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _HIDE_AMQTT + code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_amqtt_is_only_in_the_demo_extra_and_the_tests_pull_it_in() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("amqtt") for dep in project["dependencies"])
    assert any(dep.startswith("amqtt") for dep in project["optional-dependencies"]["demo"])
    assert "envoy2mqtt[demo]" in project["optional-dependencies"]["test"]


def test_every_module_but_the_embedded_broker_imports_without_amqtt() -> None:
    code = (
        "import importlib, pkgutil, envoy2mqtt\n"
        "for m in pkgutil.walk_packages(envoy2mqtt.__path__, 'envoy2mqtt.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "from envoy2mqtt.cli import build_parser; build_parser()\n"
        "print('imported')\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_demo_without_the_extra_prints_the_install_hint_not_a_traceback() -> None:
    result = _python("from envoy2mqtt.cli import main; sys.exit(main(['demo', '--duration', '1']))")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pip install 'envoy2mqtt[demo]'" in result.stderr
    assert "--mqtt-host" in result.stderr
    assert result.stdout == ""


def test_readme_quick_start_installs_the_demo_extra() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]
    assert quick_start == "pip install '.[demo]' && envoy2mqtt demo"


def test_the_image_installs_the_package_without_the_demo_extra() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [
        line for line in dockerfile.splitlines() if "pip " in line and not line.startswith("#")
    ]
    assert installs
    assert not any("demo" in line for line in installs)
