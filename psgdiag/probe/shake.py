"""A TLS client handshake driven through memory BIOs, keeping the server's first bytes.

A wrapped socket reports a plain-HTTP answer to a ClientHello as "WRONG_VERSION_NUMBER", the
same words as a server that refuses our TLS version. Reading the bytes ourselves tells the two
apart: a TLS server answers with a TLS record (content type 20-23, major version 3), even when
it refuses; anything else does not speak TLS on that port.
"""

from __future__ import annotations

import socket
import ssl

from psgdiag.probe.model import Deadline, printable
from psgdiag.record import record

_KEEP = 64  # bytes of the server's first answer kept for the diagnosis


@record(frozen=False)
class Handshake:
    """The finished TLS object, or the error that ended the handshake; the server's first bytes."""

    tls: ssl.SSLObject | None
    error: ssl.SSLError | None
    first: bytes


def handshake(sock: socket.socket, ctx: ssl.SSLContext, host: str, deadline: Deadline) -> Handshake:
    """Run a client handshake over sock; socket errors and timeouts propagate."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=host)
    first = b""
    while True:
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                sock.sendall(pending)
            sock.settimeout(deadline.check())
            data = sock.recv(16384)
            first += data[: _KEEP - len(first)]
            if data:
                incoming.write(data)
            else:
                incoming.write_eof()
            continue
        except ssl.SSLError as exc:
            return Handshake(None, exc, first)
        pending = outgoing.read()  # TLS 1.3: the client's Finished
        if pending:
            sock.sendall(pending)
        return Handshake(tls, None, first)


def speaks_tls(first: bytes) -> bool:
    """True when the server's first bytes are a TLS record (an alert counts)."""
    return len(first) >= 2 and first[0] in (20, 21, 22, 23) and first[1] == 3


def not_tls(first: bytes) -> bool:
    """True when the server answered, and not in TLS."""
    return bool(first) and not speaks_tls(first)


def describe(first: bytes) -> str:
    """What the server answered instead of TLS, for a person."""
    line = first.split(b"\r", 1)[0].split(b"\n", 1)[0]
    if first.startswith(b"HTTP/"):
        return f"it answered in plain HTTP ({printable(line.decode('latin-1'), 60)!r})"
    if line and all(32 <= b < 127 for b in line):
        # An HTTP/0.9-style answer (Python's http.server to a ClientHello): text, no status line.
        return (
            f"it answered in plain text ({printable(line.decode('ascii'), 60)!r}): an HTTP server?"
        )
    return f"its first bytes are not a TLS record ({first[:8].hex(' ')})"
