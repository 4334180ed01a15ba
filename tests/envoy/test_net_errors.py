"""Connection and TLS failures read as ``host:port`` + reason, never as Python reprs.

Every failure is real: a closed loopback port, HTTPS spoken to an HTTP simulator and back,
a self-signed certificate where the cloud client verifies.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from envoy2mqtt.envoy.auth.enlighten import EnlightenClient, ca_context
from envoy2mqtt.envoy.auth.errors import EnlightenCertificateUntrusted
from envoy2mqtt.envoy.errors import EnlightenUnreachableError, EnvoyCommunicationError
from envoy2mqtt.envoy.transport import NO_RETRY, HttpTransport
from tests.plugins.mosquitto import free_port
from tests.plugins.simulator import StartSimulator

_REPR = re.compile(r"object at 0x|<|>|\(_ssl\.c|\[SSL|Errno|Connect call failed")
FAST = NO_RETRY


def assert_plain(text: str) -> None:
    assert not _REPR.search(text), text


async def transport_error(url_host: str) -> str:
    transport = HttpTransport(url_host, budget=FAST)
    try:
        with pytest.raises(EnvoyCommunicationError) as caught:
            await transport.request("GET", "/info")
    finally:
        await transport.close()
    text = str(caught.value)
    assert_plain(text)
    return text


async def test_refused_port_names_host_port_and_reason() -> None:
    port = free_port()
    text = await transport_error(f"http://127.0.0.1:{port}")
    assert text == f"GET http://127.0.0.1:{port}/info failed: cannot connect (connection refused)"


async def test_https_to_a_plain_http_port_is_a_tls_handshake_failure(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("4.10.35")  # plain HTTP
    text = await transport_error(f"https://127.0.0.1:{sim.port}")
    assert text == (
        f"GET https://127.0.0.1:{sim.port}/info failed: TLS handshake failed: "
        "wrong version number (does this port speak HTTPS?)"
    )


async def test_plain_http_to_an_https_port_says_the_server_hung_up(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")  # HTTPS
    text = await transport_error(f"http://127.0.0.1:{sim.port}")
    assert text.endswith("failed: the server closed the connection without answering")


async def test_untrusted_enlighten_certificate_is_named_and_not_retried(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")
    cloud = EnlightenClient(f"{sim.url}/login/login.json", f"{sim.url}/tokens")  # 3 attempts
    try:
        with pytest.raises(EnlightenCertificateUntrusted) as caught:
            await cloud.fetch_token("owner@example.com", "owner-password", sim.serial)
    finally:
        await cloud.close()
    text = str(caught.value)
    assert text == (
        f"TLS certificate of Enlighten at 127.0.0.1:{sim.port} not trusted: self-signed "
        "certificate; set enlighten.ca_file to the CA certificate that signed it"
    )
    assert_plain(text)
    assert isinstance(caught.value, EnlightenUnreachableError)  # a stored token may still do


async def test_enlighten_ca_file_makes_the_simulator_trusted(
    envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(sim.certificate.cert_pem)
    cloud = EnlightenClient(
        f"{sim.url}/login/login.json", f"{sim.url}/tokens", ssl_context=ca_context(ca_file)
    )
    try:
        token = await cloud.fetch_token("owner@example.com", "owner-password", sim.serial)
    finally:
        await cloud.close()
    assert token.reveal().count(".") == 2
    assert sim.enlighten.token_calls == 1


async def test_unreachable_enlighten_names_host_port() -> None:
    port = free_port()
    cloud = EnlightenClient(
        f"https://127.0.0.1:{port}/login/login.json", f"https://127.0.0.1:{port}/t", budget=FAST
    )
    try:
        with pytest.raises(EnlightenUnreachableError) as caught:
            await cloud.fetch_token("owner@example.com", "pw", "1")
    finally:
        await cloud.close()
    assert str(caught.value) == (
        f"cannot reach Enlighten at 127.0.0.1:{port}: cannot connect (connection refused)"
    )


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_probe_cli_error_has_no_reprs(scheme: str, envoy_simulator: StartSimulator) -> None:
    # https against the plain-HTTP simulator: a TLS mismatch; http: a refused port.
    sim = await envoy_simulator("4.10.35")
    port = sim.port if scheme == "https" else free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "probe", f"{scheme}://127.0.0.1:{port}",
        "--attempts", "1", "--timeout", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    text = err.decode()
    assert proc.returncode == 1
    assert f"127.0.0.1:{port}" in text
    expected = "TLS handshake failed" if scheme == "https" else "connection refused"
    assert expected in text
    assert_plain(text)
