"""Loopback servers that misbehave on purpose: a NuGet v2 gallery and a status page.

Shared by the hostile tests and `benchmarks/hostile.py`. Everything is built in memory and cheaply
(a million-entry zip is written header by header, not through zipfile).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MODULE = "TinyModule"
NAMESPACES = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)


# ---------------------------------------------------------------- packages


def package(nuspec: str | None = None, *, files: int = 1) -> bytes:
    """A small .nupkg; `nuspec` replaces the manifest's text (for pathological manifests)."""
    text = nuspec or (
        f'<?xml version="1.0"?><package><metadata><id>{MODULE}</id>'
        "<version>1.0.0</version></metadata></package>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{MODULE}.nuspec", text)
        for i in range(files):
            zf.writestr(f"{MODULE}{i}.psm1", f"function Get-Thing{i} {{ {i} }}\n")
    return buf.getvalue()


def encrypted(data: bytes) -> bytes:
    """The same zip with every entry flagged as encrypted (general purpose bit 0)."""
    out = bytearray(data)
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = out.find(sig)
        while pos >= 0:
            flags = struct.unpack_from("<H", out, pos + at)[0]
            struct.pack_into("<H", out, pos + at, flags | 1)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def many_entries(count: int) -> bytes:
    """A zip64 archive of `count` stored, empty entries, all pointing at one local header.

    Every central directory record is the same bytes, so building a million costs one
    multiplication, not a million struct calls.
    """
    name = b"a"
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    record = (
        struct.pack(
            "<4s6H3I5H2I",
            b"PK\x01\x02",
            45, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0,
        )
        + name
    )  # fmt: skip
    cd_offset, cd_size = len(local), len(record) * count
    z64_at = cd_offset + cd_size
    return b"".join(
        [
            local,
            record * count,
            struct.pack(
                "<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
            ),
            struct.pack("<4sIQI", b"PK\x06\x07", 0, z64_at, 1),
            struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0),
        ]
    )


def digest(data: bytes, algorithm: str = "sha512") -> str:
    """The feed's PackageHash form (base64)."""
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


# ---------------------------------------------------------------- the gallery


@dataclass
class Feed:
    """What the hostile gallery advertises and serves.

    ending: how the download ends: "full", "close" (a clean close half-way), "reset" (a TCP
    reset half-way), "stall" (half, then nothing), "endless" (chunks forever, no length).
    """

    data: bytes = field(default_factory=package)
    version: str = "1.0.0"
    algorithm: str = "SHA512"
    hash: str | None = None  # None: the real SHA-512 of data
    size: bool = True
    pages: int = 1
    filler: bytes = b""  # extra entries repeated on every page
    delay: float = 0.0  # seconds before each page is sent
    ending: str = "full"
    base: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    served: list[str] = field(default_factory=list)

    def entry(self) -> str:
        """The module's one real entry."""
        advertised = self.hash if self.hash is not None else digest(self.data)
        size = f"<d:PackageSize>{len(self.data)}</d:PackageSize>" if self.size else ""
        return (
            f"<entry><title>{MODULE}</title>"
            f'<content type="application/zip" src="{self.base}/package/{MODULE}/x"/>'
            f"<m:properties><d:Id>{MODULE}</d:Id><d:Version>{self.version}</d:Version>"
            f"<d:PackageHash>{advertised}</d:PackageHash>"
            f"<d:PackageHashAlgorithm>{self.algorithm}</d:PackageHashAlgorithm>{size}"
            "<d:IsPrerelease>false</d:IsPrerelease><d:IsLatestVersion>true</d:IsLatestVersion>"
            "</m:properties></entry>"
        )

    def page(self, n: int) -> bytes:
        """Page n of FindPackagesById(): filler, the real entry on the last page, a next link."""
        last = n >= self.pages - 1
        nxt = "" if last else f'<link rel="next" href="{self.base}/page/{n + 1}"/>'
        head = f'<?xml version="1.0" encoding="utf-8"?><feed {NAMESPACES}><title>x</title>'
        tail = (self.entry() if last else "") + nxt + "</feed>"
        return head.encode() + self.filler + tail.encode()


def filler_entries(size: int) -> bytes:
    """About `size` bytes of valid entries for other versions (what a deep feed is made of)."""
    one = (
        f"<entry><title>{MODULE}</title><m:properties><d:Id>{MODULE}</d:Id>"
        "<d:Version>0.0.{n}</d:Version><d:PackageHash>"
        + "A"
        * 88
        + "</d:PackageHash><d:PackageSize>1000</d:PackageSize>"
        "<d:IsPrerelease>false</d:IsPrerelease></m:properties></entry>"
    )
    count = max(1, size // len(one))
    return "".join(one.replace("{n}", str(i)) for i in range(count)).encode()


def filler_text(size: int) -> bytes:
    """About `size` bytes of one text node (a page that is big without being busy)."""
    return b"<summary>" + b"a" * size + b"</summary>"


def filler_elements(size: int) -> bytes:
    """About `size` bytes of tiny empty elements (the most a tree-building parser can be fed)."""
    return b"<x/>" * max(1, size // 4)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no delayed-ACK stalls
    feed: Feed

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/atom+xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def do_GET(self) -> None:
        f = self.feed
        path = urlsplit(self.path).path
        f.served.append(path)
        if path.endswith("/FindPackagesById()"):
            return self._send(200, f.page(0))
        if "/page/" in path:
            f.stop.wait(f.delay)
            return self._send(200, f.page(int(path.rsplit("/", 1)[-1])))
        if "/package/" in path:
            return self._package()
        self._send(404, b"not found", "text/plain")

    def _package(self) -> None:
        f = self.feed
        if f.ending == "full":
            return self._send(200, f.data, "application/zip")
        self.send_response(200)
        if f.ending == "endless":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"%x\r\n%s\r\n" % (65536, b"\0" * 65536)
            with contextlib.suppress(OSError):
                while not f.stop.is_set():
                    self.wfile.write(chunk)
            return None
        self.send_header("Content-Length", str(len(f.data)))
        self.end_headers()
        self.wfile.write(f.data[: len(f.data) // 2])
        self.wfile.flush()
        if f.ending == "stall":
            f.stop.wait(60)
        elif f.ending == "reset":
            # Linger 0 then close at once: a TCP reset, with no FIN before it.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run a handler on 127.0.0.1 in a thread; yield http://127.0.0.1:PORT."""
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def gallery(feed: Feed) -> Iterator[Feed]:
    """Serve a hostile feed; feed.base is its /api/v2 URL."""
    handler = type("H", (_Handler,), {"feed": feed})
    with serve(handler) as root:
        feed.base = root + "/api/v2"
        try:
            yield feed
        finally:
            feed.stop.set()


# ---------------------------------------------------------------- the status page


@dataclass
class Page:
    """A status page: its bytes, sent at once, or one byte every `drip` seconds."""

    body: bytes = b""
    drip: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)


class _PageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    page: Page

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        p = self.page
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(p.body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            if not p.drip:
                self.wfile.write(p.body)
                return
            for i in range(len(p.body)):
                if p.stop.wait(p.drip):
                    return
                self.wfile.write(p.body[i : i + 1])
                self.wfile.flush()


@contextlib.contextmanager
def status_page(page: Page) -> Iterator[str]:
    """Serve a status page; yield its URL."""
    handler = type("P", (_PageHandler,), {"page": page})
    with serve(handler) as root:
        try:
            yield root + "/psgallery_status.md"
        finally:
            page.stop.set()


def wait_until(predicate: Any, seconds: float) -> bool:
    """Poll predicate() until it holds or the time runs out."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
