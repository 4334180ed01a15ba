"""``envoy2mqtt dump`` writes private dumps: no MAC, IP or e-mail address of the system.

Real processes against the simulator serving a copy of a fixture whose ``/home`` carries
two MAC addresses, a LAN and a WAN IP, plus (added here) an IPv6 address and the owner's
e-mail address. Every output file is scanned.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

from envoy2mqtt.cmd.dump_mask import DumpMasker
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import FIXTURES_DIR, StartSimulator

FIXTURE = "8.3.5169_with_generator"
MACS = ["00:1D:C0:99:99:01", "90:48:46:99:99:02"]
IPS = ["203.0.113.107", "10.0.20.128", "fe80::21d:c0ff:fe99:9901"]
EMAIL = "jane.owner@mail.example.org"


def private_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "system"
    shutil.copytree(FIXTURES_DIR / FIXTURE, target)
    home = json.loads((target / "home").read_text())
    home["network"]["interfaces"][1]["ipv6"] = IPS[2]
    home["owner_email"] = EMAIL
    (target / "home").write_text(json.dumps(home))
    return target


async def dump(sim: EnvoySimulator, out: Path, *extra: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "dump", f"127.0.0.1:{sim.port}",
        "--token", sim.issue_token(), "--out", str(out), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, stdout.decode(), stderr.decode()


def everything(out: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(out.iterdir())).lower()


async def test_dump_masks_mac_ip_and_email_and_keeps_serials(
    envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sim = await envoy_simulator(str(private_fixture(tmp_path)))
    out = tmp_path / "dump"
    code, stdout, stderr = await dump(sim, out)
    assert code == 0, stderr
    text = everything(out)
    leaks = [v for v in [*MACS, *IPS, EMAIL] if v.lower() in text]
    assert leaks == []
    assert sim.serial in text  # fixtures need their serial numbers
    home = json.loads((out / "home").read_text())
    interfaces = home["network"]["interfaces"]
    assert [i.get("mac") for i in interfaces] == [None, "00:00:5E:00:53:01", "00:00:5E:00:53:02"]
    assert interfaces[0]["ip"].startswith("192.0.2.")
    assert interfaces[1]["ipv6"].startswith("2001:db8::")
    assert home["owner_email"] == "user1@example.com"
    assert "masked 2 MAC addresses, 3 IP addresses, 1 e-mail address in home;" in stdout
    assert "--keep-network" in stdout
    # the rest of the answer is unchanged: the dump still is a fixture
    original = json.loads((private_fixture(tmp_path / "again") / "home").read_text())
    assert home.keys() == original.keys()
    assert home["comm"] == original["comm"]


async def test_keep_network_keeps_mac_and_ip_but_not_the_email(
    envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sim = await envoy_simulator(str(private_fixture(tmp_path)))
    out = tmp_path / "dump"
    code, stdout, stderr = await dump(sim, out, "--keep-network")
    assert code == 0, stderr
    text = everything(out)
    assert all(v.lower() in text for v in [*MACS, *IPS])
    assert EMAIL.lower() not in text
    assert "masked 0 MAC addresses, 0 IP addresses, 1 e-mail address in home;" in stdout


async def test_a_non_empty_out_is_refused_unless_forced(
    envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sim = await envoy_simulator(FIXTURE)
    out = tmp_path / "dump"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, stdout, stderr = await dump(sim, out)
    assert code == 1
    assert stdout == ""
    refusal = f"error: --out {out} is not empty (use --force to write into it anyway)"
    assert stderr.strip() == refusal
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert sim.requests.entries(path="/info") == []  # refused before talking to the Envoy
    code, _, stderr = await dump(sim, out, "--force")
    assert code == 0, stderr
    assert (out / "info").is_file()
    assert (out / "notes.txt").read_text() == "mine"  # other files are left alone


def test_masking_is_consistent_and_leaves_what_identifies_nothing() -> None:
    masker = DumpMasker()
    first = masker.mask(
        "a", b'{"ip": "192.168.1.5", "gw": "192.168.1.1", "mac": "aa-bb-cc-dd-ee-ff"}'
    )
    again = masker.mask("b", b"from 192.168.1.5 via AA-BB-CC-DD-EE-FF")
    assert first == b'{"ip": "192.0.2.1", "gw": "192.0.2.2", "mac": "00-00-5E-00-53-01"}'
    assert again == b"from 192.0.2.1 via 00-00-5E-00-53-01"  # same value, same placeholder
    kept = (
        b"netmask 255.255.255.0 lo 127.0.0.1 any 0.0.0.0 ::1 mdns 224.0.0.251 at 12:30:00 "
        b"serial 122027033238 fw D8.3.5167 part 800-00654-r08 openresty/1.17.8.1 v02.61.01"
    )
    assert masker.mask("c", kept) == kept
    assert masker.counts() == {"MAC address": 1, "IP address": 2, "e-mail address": 0}
