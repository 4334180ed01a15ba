"""Self-signed TLS certificates like the ones real Envoys present (``CN=envoy-<serial>``).

A fresh key is generated in memory at start-up; nothing secret is ever written to the
repository. Certificates are cached per serial so that starting many simulated Envoys of
the same fixture is cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ServerCertificate:
    """A server certificate (PEM) and a server-side SSL context that presents it."""

    cert_pem: bytes
    context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        """Return a verifying client context that trusts exactly this certificate."""
        return ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))


def _build(serial: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"envoy-{serial}")])
    now = dt.datetime.now(dt.UTC)
    # SANs for the loopback address let tests verify the certificate like a cloud client would.
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@functools.cache
def certificate_for(serial: str) -> ServerCertificate:
    """Return the (process-wide cached) self-signed certificate for an Envoy serial."""
    cert_pem, key_pem = _build(serial)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain only reads files; the key lives on disk just long enough to load it.
    with tempfile.TemporaryDirectory(prefix="envoy-sim-") as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return ServerCertificate(cert_pem=cert_pem, context=context)
