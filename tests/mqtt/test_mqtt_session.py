"""MqttSession against a real mosquitto: LWT, online/offline, reconnect, auth and TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from envoy2mqtt.mqtt.acks import STALL
from envoy2mqtt.mqtt.publisher import StatePublisher
from envoy2mqtt.mqtt.session import Backoff, MqttAuthError, MqttSession, MqttTlsError
from tests.mqtt.test_mqtt_support import WAIT, Probe, fast_session, mqtt_settings, running
from tests.plugins.mosquitto import Mosquitto, _wait_listening, free_port

STATE = "e2m/bridge/state"
# Started as root, mosquitto drops to the "mosquitto" user before reading password and
# certificate files, which then cannot enter pytest's private tmp directory.
_KEEP_USER = "user root\n" if os.geteuid() == 0 else ""


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_online_on_connect_and_offline_on_clean_stop(
    mosquitto: Mosquitto, protocol: str
) -> None:
    session = fast_session(mqtt_settings(mosquitto, protocol=protocol))
    async with Probe(mosquitto) as probe:
        await probe.subscribe(STATE)
        async with running(session):
            message = await probe.expect(STATE, b"online")
            assert message.qos == 1
            assert session.connected
        await probe.expect(STATE, b"offline")
    # Both are retained: a late subscriber sees the last word.
    async with Probe(mosquitto) as late:
        await late.subscribe(STATE)
        retained = await late.expect(STATE)
        assert retained.payload == b"offline"
        assert retained.retain


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from envoy2mqtt.mqtt.session import MqttSession
    from envoy2mqtt.settings import MqttSettings

    async def main() -> None:
        settings = MqttSettings(
            host="127.0.0.1", port=int(sys.argv[1]), base_topic="e2m", client_id="lwt-child"
        )
        session = MqttSession(settings)

        async def ready() -> None:
            print("ready", flush=True)

        session.add_on_connect(ready)
        await session.run()

    asyncio.run(main())
    """
)


async def test_last_will_delivered_when_the_process_is_killed(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    async with Probe(mosquitto) as probe:
        await probe.subscribe(STATE)
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(script), str(mosquitto.port), stdout=asyncio.subprocess.PIPE
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), WAIT)
            assert line.strip() == b"ready"
            await probe.expect(STATE, b"online")
            child.send_signal(signal.SIGKILL)
            will = await probe.expect(STATE, b"offline")
            assert will.qos == 1
        finally:
            if child.returncode is None:
                child.kill()
            await child.wait()
    assert child.returncode == -signal.SIGKILL
    async with Probe(mosquitto) as late:
        await late.subscribe(STATE)
        assert (await late.expect(STATE)).retain


async def test_broker_restart_reconnects_resubscribes_and_republishes(
    mosquitto: Mosquitto,
) -> None:
    session = fast_session(mqtt_settings(mosquitto))
    publisher = StatePublisher(session, republish_interval=300)
    hook_runs: list[int] = []
    incoming: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_connect() -> None:
        hook_runs.append(session.stats.connects)
        await publisher.republish_all()

    async def on_message(message: object) -> None:
        incoming.put_nowait(message.payload)  # type: ignore[attr-defined]

    session.add_on_connect(on_connect)
    session.add_message_handler(on_message)
    await session.subscribe("e2m/inbox")
    async with running(session):
        assert await publisher.publish("e2m/123/production", {"watts_now": 5})
        mosquitto.stop()
        await asyncio.wait_for(session.wait_disconnected(), WAIT)
        # Offline publishes are dropped, never queued for the next connection.
        assert not await session.publish("e2m/123/stale", b"old", qos=1, retain=True)
        assert not session.connected
        mosquitto.start()  # persistence is off: the broker forgot every retained message
        await asyncio.wait_for(session.wait_connected(), WAIT)
        async with Probe(mosquitto) as probe:
            await probe.subscribe("e2m/#")
            state = await probe.expect("e2m/123/production")
            assert state.payload == b'{"watts_now":5}'
            await probe.expect(STATE, b"online")
            await probe.publish("e2m/inbox", b"hello again")  # needs the renewed subscription
            assert await asyncio.wait_for(incoming.get(), WAIT) == b"hello again"
            assert b"old" not in probe.payloads("e2m/123/stale")
        assert hook_runs == [1, 2]
        assert session.stats.dropped >= 1


async def test_unacknowledged_publish_replaces_the_connection(mosquitto: Mosquitto) -> None:
    # A frozen broker keeps the TCP connection open but never answers (like a half-open
    # connection): the session must give up on it instead of stalling every publish.
    session = MqttSession(
        mqtt_settings(mosquitto), backoff=Backoff(initial=0.05, maximum=0.3), timeout=0.5
    )
    async with running(session):
        assert mosquitto.proc is not None
        mosquitto.proc.send_signal(signal.SIGSTOP)
        try:
            assert not await session.publish("e2m/x", b"1", qos=1)
            assert not await session.publish("e2m/y", b"2", qos=1)
            await asyncio.wait_for(session.wait_disconnected(), WAIT)
        finally:
            mosquitto.proc.send_signal(signal.SIGCONT)
        await asyncio.wait_for(session.wait_connected(), WAIT)
        assert session.stats.connects >= 2
        assert session.stats.dropped == 2


async def test_a_blocked_event_loop_does_not_make_a_live_connection_dead(
    mosquitto: Mosquitto,
) -> None:
    # 200 Envoys starting once blocked the loop for ~23 s (docs/performance.md 2.4): the
    # broker's PUBACKs waited unread in the socket, every pending publish timed out, and the
    # session replaced a connection that was fine.
    session = MqttSession(
        mqtt_settings(mosquitto), backoff=Backoff(initial=0.05, maximum=0.3), timeout=0.5
    )
    async with running(session):
        publish = asyncio.create_task(session.publish("e2m/x", b"1", qos=1))
        await asyncio.sleep(0)  # the publish is handed to the client and awaits its PUBACK
        time.sleep(1.0 + STALL)  # noqa: ASYNC251 - the fault under test: a blocked loop
        assert await asyncio.wait_for(publish, WAIT) is True
        assert session.connected
        assert session.stats.connects == 1
        assert session.stats.dropped == 0


async def test_hook_failure_does_not_break_the_session(mosquitto: Mosquitto) -> None:
    session = fast_session(mqtt_settings(mosquitto))
    later: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        later.append("ran")

    session.add_on_connect(broken)
    session.add_on_connect(fine)
    async with running(session), Probe(mosquitto) as probe:
        await probe.subscribe("e2m/alive")
        assert await session.publish("e2m/alive", b"yes", qos=1)
        await probe.expect("e2m/alive", b"yes")
    assert later == ["ran"]


# --- authentication ------------------------------------------------------------------


@pytest.fixture
def auth_broker(tmp_path: Path) -> Mosquitto:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed: cannot create a broker password file")
    passwords = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(passwords), "bridge", "right-secret"], check=True)
    workdir = tmp_path / "auth"
    workdir.mkdir()
    broker = Mosquitto(
        workdir=workdir,
        extra_config=f"{_KEEP_USER}allow_anonymous false\npassword_file {passwords}\n",
    )
    broker.start()
    yield broker  # type: ignore[misc]
    broker.stop()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_bad_credentials_at_first_connect_raise_a_clear_error(
    auth_broker: Mosquitto, protocol: str
) -> None:
    settings = mqtt_settings(
        auth_broker, username="bridge", password="wrong-secret", protocol=protocol
    )
    session = fast_session(settings)
    with pytest.raises(MqttAuthError) as caught:
        await asyncio.wait_for(session.run(), WAIT)
    text = str(caught.value)
    assert "refused the login" in text
    assert "mqtt.username" in text
    assert "wrong-secret" not in text
    assert session.stats.connects == 0


async def test_good_credentials_connect(auth_broker: Mosquitto) -> None:
    settings = mqtt_settings(auth_broker, username="bridge", password="right-secret")
    session = fast_session(settings)
    async with running(session):
        assert session.connected


class _LogFlag(logging.Handler):
    """Sets an event when a log message containing ``needle`` is emitted."""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.event.set()


async def test_unreachable_broker_at_start_is_retried_until_it_appears(tmp_path: Path) -> None:
    # "Connection refused" can heal (the broker may start after us): not fatal.
    broker = Mosquitto(workdir=tmp_path)  # not started yet
    flag = _LogFlag("connection lost or failed")
    logger = logging.getLogger("envoy2mqtt.mqtt.session")
    logger.addHandler(flag)
    session = fast_session(mqtt_settings(broker))
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(flag.event.wait(), WAIT)
        assert not task.done()
        broker.start()
        await asyncio.wait_for(session.wait_connected(), WAIT)
        await session.stop()
        await asyncio.wait_for(task, WAIT)
    finally:
        logger.removeHandler(flag)
        broker.stop()


# --- TLS -------------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    ip: str | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip is not None:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def tls_broker(tmp_path: Path) -> tuple[Mosquitto, int, Path]:
    """mosquitto with a TLS listener that requires a client certificate from our CA."""
    certs = tmp_path / "certs"
    certs.mkdir()
    ca_key = _key()
    ca = _cert("test-ca", ca_key, None, ca=True)
    _write(certs / "ca", ca, ca_key)
    server_key = _key()
    _write(
        certs / "server", _cert("127.0.0.1", server_key, (ca, ca_key), ip="127.0.0.1"), server_key
    )
    client_key = _key()
    _write(certs / "client", _cert("envoy2mqtt", client_key, (ca, ca_key)), client_key)
    other_key = _key()
    _write(certs / "other-ca", _cert("other-ca", other_key, None, ca=True), other_key)
    tls_port = free_port()
    workdir = tmp_path / "tls"
    workdir.mkdir()
    broker = Mosquitto(
        workdir=workdir,
        extra_config=(
            f"{_KEEP_USER}listener {tls_port} 127.0.0.1\n"
            f"cafile {certs / 'ca.pem'}\ncertfile {certs / 'server.pem'}\n"
            f"keyfile {certs / 'server.key'}\nrequire_certificate true\n"
        ),
    )
    broker.start()
    _wait_listening(tls_port)
    yield broker, tls_port, certs  # type: ignore[misc]
    broker.stop()


def _tls_session(broker: Mosquitto, port: int, **tls: object) -> MqttSession:
    settings = mqtt_settings(broker, port=port, tls={"enabled": True, **tls})
    return fast_session(settings)


def _client_pair(certs: Path) -> dict[str, Path]:
    """The client certificate the broker's CA signed, and its key."""
    return {"cert_file": certs / "client.pem", "key_file": certs / "client.key"}


async def test_tls_with_ca_and_client_certificate_connects(
    tls_broker: tuple[Mosquitto, int, Path],
) -> None:
    broker, port, certs = tls_broker
    session = _tls_session(broker, port, ca_file=certs / "ca.pem", **_client_pair(certs))
    async with Probe(broker) as probe:  # plain listener of the same broker
        await probe.subscribe(STATE)
        async with running(session):
            await probe.expect(STATE, b"online")
            assert await session.publish("e2m/tls", b"over tls", qos=1)


async def test_tls_with_untrusted_broker_certificate_is_fatal_at_first_connect(
    tls_broker: tuple[Mosquitto, int, Path],
) -> None:
    broker, port, certs = tls_broker
    session = _tls_session(broker, port, ca_file=certs / "other-ca.pem", **_client_pair(certs))
    with pytest.raises(MqttTlsError, match=r"mqtt\.tls\.ca_file") as caught:
        await asyncio.wait_for(session.run(), WAIT)
    text = str(caught.value)
    assert text.startswith(f"TLS certificate of MQTT broker 127.0.0.1:{port} not trusted: ")
    assert "self-signed certificate in certificate chain" in text  # the verify reason
    assert "_ssl.c" not in text
    assert "[SSL" not in text


async def test_tls_insecure_skips_verification(tls_broker: tuple[Mosquitto, int, Path]) -> None:
    broker, port, certs = tls_broker
    session = _tls_session(broker, port, insecure=True, **_client_pair(certs))
    async with running(session):
        assert session.connected


async def test_unusable_tls_key_is_a_clear_error(
    tls_broker: tuple[Mosquitto, int, Path],
) -> None:
    broker, port, certs = tls_broker
    # The client key does not belong to the CA certificate: loading the pair fails.
    session = _tls_session(broker, port, cert_file=certs / "ca.pem", key_file=certs / "client.key")
    with pytest.raises(MqttTlsError, match="cannot set up TLS"):
        await session.run()


def test_session_reports_protocol() -> None:
    settings = mqtt_settings(Mosquitto(workdir=Path("/nonexistent")), protocol="3.1.1")
    assert MqttSession(settings).is_v5 is False


def test_backoff_grows_exponentially_with_bounded_jitter_and_a_cap() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, factor=2.0, jitter=0.2)
    for attempt, base in [(0, 1.0), (1, 2.0), (3, 8.0), (5, 32.0)]:
        delays = {backoff.delay(attempt) for _ in range(50)}
        assert all(base * 0.8 <= d <= base * 1.2 for d in delays)
        assert len(delays) > 1  # jittered: many clients do not reconnect in lockstep
    assert all(backoff.delay(attempt) <= 60.0 for attempt in (6, 10, 1000))
    assert Backoff(initial=1.0, maximum=60.0, jitter=0.0).delay(1000) == 60.0
