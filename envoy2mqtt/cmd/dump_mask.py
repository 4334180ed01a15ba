"""Private dumps: MAC, IP and e-mail addresses replaced by documentation placeholders.

A dump is meant to be attached to a public bug report, but ``/home`` lists the gateway's
MAC addresses and its LAN/WAN IPs, and other answers can carry the owner's e-mail address.
Each distinct value is replaced by a placeholder of the same kind from the ranges reserved
for documentation, consistently across every file of the dump (the same MAC is the same
placeholder everywhere), so the dump still parses and replays in the simulator:

* MAC ``00:00:5E:00:53:01``… (RFC 7042 §2.1.2), keeping the separator;
* IPv4 ``192.0.2.1``…, then ``198.51.100.x``, ``203.0.113.x`` (RFC 5737);
  IPv6 ``2001:db8::1``… (RFC 3849);
* e-mail ``user1@example.com``… (RFC 2606).

Addresses that identify nothing stay: loopback, unspecified, multicast, netmasks and the
broadcast address. Serial numbers are kept (fixtures need them; they are no separator-ed
hex groups and no dotted quads).
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

_MAC = re.compile(rb"(?<![0-9A-Fa-f:-])(?:[0-9A-Fa-f]{2}([:-])){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])")
# not after "name/": "Server: openresty/1.17.8.1" is a version ("http://10.0.0.1" is not)
_IPV4 = re.compile(rb"(?<![\w.])(?<![A-Za-z0-9]/)(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
# candidates only: ipaddress decides (times like 12:30:00 and MACs are no IPv6 address)
_IPV6 = re.compile(rb"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:.])")
_EMAIL = re.compile(rb"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

_V4_BLOCKS = ("192.0.2", "198.51.100", "203.0.113")

KINDS = ("MAC address", "IP address", "e-mail address")


def _harmless(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.is_loopback or address.is_unspecified or address.is_multicast:
        return True
    if address.version == 4:
        bits = f"{int(address):032b}"
        return bits.startswith("1") and "01" not in bits  # a netmask or 255.255.255.255
    return False


@dataclass
class DumpMasker:
    """Masks one dump; remembers the placeholders and what it masked in which file.

    Attributes:
        keep_network: leave MAC and IP addresses as they are (e-mails are still masked).
    """

    keep_network: bool = False
    _placeholders: dict[tuple[str, bytes], bytes] = field(default_factory=dict)
    _files: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def mask(self, name: str, body: bytes) -> bytes:
        """``body`` with every private address replaced; ``name`` is the file it goes to."""
        if not self.keep_network:
            body = _MAC.sub(self._replacer(name, "MAC address", self._mac), body)
            body = _IPV4.sub(self._replacer(name, "IP address", self._ip), body)
            body = _IPV6.sub(self._replacer(name, "IP address", self._ip), body)
        return _EMAIL.sub(self._replacer(name, "e-mail address", self._email), body)

    def counts(self) -> dict[str, int]:
        """Distinct values masked, per kind (every kind present, 0 when none)."""
        found = dict.fromkeys(KINDS, 0)
        for kind, _ in self._placeholders:
            found[kind] += 1
        return found

    def report(self) -> str:
        """One line for the console: what was masked, where, and how to keep it."""
        parts = [f"{n} {kind}{'' if n == 1 else 'es'}" for kind, n in self.counts().items()]
        files = sorted(set().union(*self._files.values()))
        where = f" in {', '.join(files)}" if files else ""
        if self.keep_network:
            hint = "MAC/IP addresses kept (--keep-network)"
        else:
            hint = "--keep-network keeps MAC/IP addresses"
        return f"masked {', '.join(parts)}{where}; {hint}"

    def _replacer(
        self, name: str, kind: str, make: Callable[[bytes, int], bytes | None]
    ) -> Callable[[re.Match[bytes]], bytes]:
        def replace(match: re.Match[bytes]) -> bytes:
            value = match[0]
            key = (kind, value.lower())
            if key not in self._placeholders:
                placeholder = make(value, sum(1 for k, _ in self._placeholders if k == kind) + 1)
                if placeholder is None:
                    return value
                self._placeholders[key] = placeholder
            self._files[kind].add(name)
            return self._placeholders[key]

        return replace

    @staticmethod
    def _mac(value: bytes, index: int) -> bytes:
        separator = value[2:3]
        return separator.join([b"00", b"00", b"5E", b"00", b"53", b"%02X" % (index % 256)])

    @staticmethod
    def _ip(value: bytes, index: int) -> bytes | None:
        try:
            address = ipaddress.ip_address(value.decode("ascii"))
        except ValueError:
            return None
        if _harmless(address):
            return None
        if address.version == 6:
            return f"2001:db8::{index:x}".encode()
        block, host = divmod(index - 1, 254)
        return f"{_V4_BLOCKS[block % len(_V4_BLOCKS)]}.{host + 1}".encode()

    @staticmethod
    def _email(_value: bytes, index: int) -> bytes:
        return b"user%d@example.com" % index
