"""What a server certificate says (subject, issuer, validity), even one that failed verification."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator, Mapping

from psgdiag.record import record

_CN = bytes.fromhex("550403")  # 2.5.4.3 commonName
_O = bytes.fromhex("55040a")  # 2.5.4.10 organizationName
_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


@record
class CertInfo:
    """The parts of a certificate a person checks first."""

    subject: str
    issuer: str
    not_before: dt.datetime | None
    not_after: dt.datetime | None

    def describe(self, now: dt.datetime) -> str:
        """'for X from Y, valid until Z' with the distance to expiry when it matters."""
        text = f"certificate for {self.subject} from {self.issuer}"
        if self.not_after is None:
            return text
        when = self.not_after.strftime("%Y-%m-%d %H:%M UTC")
        days = (self.not_after - now).days
        if self.not_after < now:
            return f"{text}, expired {when} ({-days} days ago)"
        if self.not_before is not None and self.not_before > now:
            return f"{text}, not valid before {self.not_before:%Y-%m-%d %H:%M} UTC"
        return f"{text}, valid until {when}" + (f" (expires in {days} days)" if days < 14 else "")


def from_peercert(cert: Mapping[str, object]) -> CertInfo:
    """From ssl's getpeercert() dictionary (a verified connection)."""

    def name(key: str) -> str:
        found: dict[str, str] = {}
        rdns = cert.get(key)
        if isinstance(rdns, tuple):
            for rdn in rdns:
                for pair in rdn:
                    found[str(pair[0])] = str(pair[1])
        return found.get("commonName") or found.get("organizationName") or "?"

    def when(key: str) -> dt.datetime | None:
        raw = cert.get(key)
        if not isinstance(raw, str):
            return None
        return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(raw), dt.UTC)

    return CertInfo(name("subject"), name("issuer"), when("notBefore"), when("notAfter"))


def from_der(der: bytes) -> CertInfo | None:
    """Parse the few fields needed from a DER certificate; None when it is not one."""
    try:
        _, start, _ = _tlv(der, 0)
        _, tbs_start, tbs_end = _tlv(der, start)
        fields = list(_children(der, tbs_start, tbs_end))
        if fields and fields[0][0] == 0xA0:  # explicit version
            fields = fields[1:]
        issuer, validity, subject = fields[2], fields[3], fields[4]
        times = [_time(der, t) for t in _children(der, validity[1], validity[2])]
        return CertInfo(_name(der, subject), _name(der, issuer), times[0], times[1])
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def peek(sock: socket.socket, host: str) -> CertInfo | None:
    """Handshake without verifying, only to read the certificate that failed verification."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    return from_der(der) if der else None


def _tlv(buf: bytes, pos: int) -> tuple[int, int, int]:
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > len(buf):
        raise ValueError("DER runs past its buffer")
    return tag, pos, pos + length


def _children(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    pos = start
    while pos < end:
        tag, cstart, cend = _tlv(buf, pos)
        yield tag, cstart, cend
        pos = cend


def _name(buf: bytes, node: tuple[int, int, int]) -> str:
    found: dict[bytes, str] = {}
    for _, s0, e0 in _children(buf, node[1], node[2]):  # SET
        for _, s1, e1 in _children(buf, s0, e0):  # SEQUENCE (oid, value)
            parts = list(_children(buf, s1, e1))
            if len(parts) == 2 and parts[1][0] in _STRINGS:
                oid = buf[parts[0][1] : parts[0][2]]
                found[oid] = buf[parts[1][1] : parts[1][2]].decode(_STRINGS[parts[1][0]])
    return found.get(_CN) or found.get(_O) or "?"


def _time(buf: bytes, node: tuple[int, int, int]) -> dt.datetime:
    text = buf[node[1] : node[2]].decode("ascii").rstrip("Z")
    fmt = "%y%m%d%H%M%S" if node[0] == 0x17 else "%Y%m%d%H%M%S"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
