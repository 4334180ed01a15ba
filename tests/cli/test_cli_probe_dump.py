"""``envoy2mqtt probe`` and ``envoy2mqtt dump`` as real processes against the simulator."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envoy2mqtt.cmd.dump import DUMP_PATHS
from envoy2mqtt.envoy.features import CtType
from envoy2mqtt.simulator.fixture_store import FixtureStore, slug_for
from tests.plugins.mosquitto import free_port
from tests.plugins.simulator import FIXTURES_DIR


async def _cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "envoy2mqtt",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60.0)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("fixture", ["8.3.1598_collar", "7.3.517", "4.10.35"])
async def test_probe_json_equals_expected(envoy_simulator, fixture) -> None:
    sim = await envoy_simulator(fixture, mode="golden")
    creds = ["--token", sim.issue_token()] if sim.state.uses_tokens else []
    code, out, err = await _cli("probe", f"127.0.0.1:{sim.port}", *creds, "--json")
    assert code == 0, err
    expected = json.loads((FIXTURES_DIR / fixture / "expected.json").read_text())
    assert json.loads(out) == expected


async def test_probe_summary_is_human_readable(envoy_simulator) -> None:
    sim = await envoy_simulator("7.3.517", mode="golden")
    token = sim.issue_token()
    code, out, err = await _cli("probe", f"127.0.0.1:{sim.port}", "--token", token)
    assert code == 0, err
    assert f"Envoy {sim.serial} firmware 7.3.517" in out
    assert "auth: token (owner, expires" in out
    assert "ENCHARGE" in out
    assert "production:" in out
    assert "battery:" in out
    assert token not in out + err


async def test_probe_summary_lists_cts(envoy_simulator) -> None:
    sim = await envoy_simulator("4.10.35", mode="golden")
    code, out, err = await _cli("probe", f"127.0.0.1:{sim.port}")
    assert code == 0, err
    assert "auth: digest" in out
    assert "phases: 2 (split), CTs: 2 (production, net-consumption)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "TokenCredentialsMissing"),
        (["--token", "not-a-jwt"], "not a valid JWT"),
        (["--serial", "111111111111"], "EnvoySerialMismatch"),
    ],
)
async def test_probe_failures_are_one_line(envoy_simulator, args, message) -> None:
    sim = await envoy_simulator("8.3.1598_collar")
    code, out, err = await _cli("probe", f"127.0.0.1:{sim.port}", *args)
    assert code == 1
    assert out == ""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in err


def _cli_sync(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "envoy2mqtt", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_probe_unreachable_host() -> None:
    code, _out, err = _cli_sync("probe", f"127.0.0.1:{free_port()}", "--attempts", "1")
    assert code == 1
    assert err.startswith("error: EnvoyCommunicationError")
    assert "Traceback" not in err


def test_probe_rejects_bad_host() -> None:
    code, _out, err = _cli_sync("probe", "envoy.local/path")
    assert code == 1
    assert "invalid envoy host" in err


async def test_dump_writes_fixture_format_without_secrets(envoy_simulator, tmp_path) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")
    token = sim.issue_token()
    out_dir = tmp_path / "dump"
    code, out, err = await _cli(
        "dump", f"127.0.0.1:{sim.port}", "--token", token, "--out", str(out_dir)
    )
    assert code == 0, err
    assert f"to {out_dir}" in out
    for path in DUMP_PATHS:
        assert (out_dir / slug_for(path)).is_file(), path
        log = json.loads((out_dir / f"{slug_for(path)}_log.json").read_text())
        assert isinstance(log["code"], int)
        assert not {k.lower() for k in log["headers"]} & {"set-cookie", "authorization"}
    assert (out_dir / "inventory.json_deleted_1").is_file()
    original = FixtureStore(FIXTURES_DIR / "8.3.5169_with_generator")
    replay = FixtureStore(out_dir)
    for path in ("/info", "/ivp/meters/readings", "/admin/lib/tariff"):
        stored, dumped = original.lookup(path), replay.lookup(path)
        assert stored is not None
        assert dumped is not None
        assert dumped.body == stored.body
        assert dumped.status == 200
    everything = b"".join(p.read_bytes() for p in out_dir.iterdir())
    assert token.encode() not in everything
    assert token.split(".")[2].encode() not in everything  # not even the signature part
    assert b"sessionId" not in everything
    assert token not in out + err


def test_dump_of_unreachable_host_fails_cleanly(tmp_path) -> None:
    code, _out, err = _cli_sync(
        "dump", f"127.0.0.1:{free_port()}", "--out", str(tmp_path / "d"), "--attempts", "1"
    )
    assert code == 1
    assert err.startswith("error: ")
    assert not (tmp_path / "d").exists()


def _all_cts_enabled(source: str, target: Path) -> Path:
    """A copy of fixture ``source`` whose every CT in /ivp/meters is enabled."""
    shutil.copytree(FIXTURES_DIR / source, target)
    meters = json.loads((target / "ivp_meters").read_text())
    for meter in meters:
        meter["state"] = "enabled"
    (target / "ivp_meters").write_text(json.dumps(meters))
    return target


async def test_probe_summary_lists_every_ct_type(envoy_simulator, tmp_path) -> None:
    listed: set[str] = set()
    # The collar fixture has every CT type but total-consumption, which the other one has.
    for source in ("8.3.1598_collar", "8.3.5433_tot_is_net_cons"):
        sim = await envoy_simulator(_all_cts_enabled(source, tmp_path / source))
        code, out, err = await _cli("probe", sim.url, "--token", sim.issue_token())
        assert code == 0, err
        line = next(line for line in out.splitlines() if line.startswith("phases:"))
        types = line.partition("CTs: ")[2]
        count, _, names = types.partition(" ")
        names_listed = names.strip("()").split(", ")
        assert int(count) == len(names_listed) == 7
        listed |= set(names_listed)
    assert listed == {str(kind) for kind in CtType}


async def test_probe_gets_a_token_from_a_simulated_enlighten_with_its_ca_file(
    envoy_simulator, tmp_path
) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(sim.certificate.cert_pem)
    cloud = ["--login-url", f"{sim.url}/login/login.json", "--token-url", f"{sim.url}/tokens"]
    login = ["--username", "owner@example.com", "--password", "owner-password", *cloud]
    code, _out, err = await _cli("probe", sim.url, *login, "--attempts", "1")
    assert code == 1
    assert f"TLS certificate of Enlighten at 127.0.0.1:{sim.port} not trusted" in err
    assert "pass --enlighten-ca-file" in err
    code, out, err = await _cli("probe", sim.url, *login, "--enlighten-ca-file", str(ca_file))
    assert code == 0, err
    assert "auth: token (owner" in out
    assert sim.enlighten.token_calls == 1
