"""A NuGet v2 gallery on 127.0.0.1 (HTTP or HTTPS) with failure modes, a CDN and a 407 proxy."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import io
import re
import select
import socket
import ssl
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

MODULE = "TinyModule"
_NAMESPACES = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)
VERSIONS = ("1.0.0", "1.2.0")


def make_package(module: str, version: str) -> bytes:
    """A real .nupkg: nuspec at the root, a manifest and some incompressible payload."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            f"{module}.nuspec",
            f'<?xml version="1.0"?><package><metadata><id>{module}</id>'
            f"<version>{version}</version><authors>test</authors></metadata></package>",
        )
        zf.writestr(f"{module}.psd1", f"@{{ ModuleVersion = '{version}' }}\n")
        zf.writestr("payload.bin", hashlib.sha512(version.encode()).digest() * 600)
    return buf.getvalue()


def _flip_payload_byte(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("payload.bin")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    at = start + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def b64sha512(data: bytes) -> str:
    """The feed's PackageHash form."""
    return base64.b64encode(hashlib.sha512(data).digest()).decode()


@dataclass
class Gallery:
    """State shared by the gallery and CDN handlers; `mode` picks the failure to act out."""

    mode: str = "healthy"
    base: str = ""
    cdn_base: str = ""
    packages: dict[tuple[str, str], bytes] = field(default_factory=dict)
    seen_auth: dict[str, list[str]] = field(default_factory=lambda: {"gallery": [], "cdn": []})
    stop: threading.Event = field(default_factory=threading.Event)
    exact_queries: int = 0

    def feed(self, module: str, version: str = "", *, entry_only: bool = False) -> bytes:
        """Atom XML as the gallery's FindPackagesById() (or Packages(Id,Version)) returns it."""
        entries = []
        for (mid, ver), data in self.packages.items():
            if mid.lower() != module.lower() or (version and ver != version):
                continue
            advertised = b64sha512(b"something else" if self.mode == "badhash" else data)
            entries.append(
                f"<entry><id>{self.base}/Packages(Id='{mid}',Version='{ver}')</id>"
                f'<title type="text">{mid}</title>'
                f'<content type="application/zip" src="{self.base}/package/{mid}/{ver}"/>'
                "<m:properties>"
                f"<d:Id>{mid}</d:Id><d:Version>{ver}</d:Version>"
                f"<d:PackageHash>{advertised}</d:PackageHash>"
                "<d:PackageHashAlgorithm>SHA512</d:PackageHashAlgorithm>"
                f"<d:PackageSize>{len(data)}</d:PackageSize>"
                "<d:IsPrerelease>false</d:IsPrerelease>"
                f"<d:IsLatestVersion>{str(ver == VERSIONS[-1]).lower()}</d:IsLatestVersion>"
                "</m:properties></entry>"
            )
        if entry_only:
            return entries[0].replace("<entry>", f"<entry {_NAMESPACES}>", 1).encode()
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<feed xml:base="{escape(self.base)}" {_NAMESPACES}>'
            f"<title>FindPackagesById</title>{''.join(entries)}</feed>"
        ).encode()


class _Quiet(BaseHTTPRequestHandler):
    gallery: Gallery
    role = "gallery"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GalleryHandler(_Quiet):
    """/api/v2/FindPackagesById()?id='X' and /api/v2/package/X/V, per the gallery's mode."""

    def do_GET(self) -> None:
        g = self.gallery
        g.seen_auth[self.role].append(self.headers.get("Authorization", ""))
        url = urlsplit(self.path)
        if self.role == "cdn":
            return self._blob(url.path)
        if url.path.endswith("/FindPackagesById()"):
            return self._feed(url.query)
        exact = re.search(r"/Packages\(Id='([^']*)',Version='([^']*)'\)$", unquote(url.path))
        if exact:
            return self._exact(exact.group(1), exact.group(2))
        if "/package/" in url.path:
            return self._package(url.path)
        if url.path.startswith("/loop/"):
            n = int(url.path.rsplit("/", 1)[-1])
            return self._send(302, b"", {"Location": f"/loop/{(n + 1) % 2}"})
        if url.path.startswith("/bootstrap"):
            return self._bootstrap(url.path)
        self._send(404, b"not found")

    def _feed(self, query: str) -> None:
        g = self.gallery
        if g.mode == "503":
            return self._send(503, b"Service Unavailable", {"Retry-After": "120"})
        module = unquote(parse_qs(query).get("id", ["''"])[0]).strip("'")
        if g.mode == "404" or not any(m.lower() == module.lower() for m, _ in g.packages):
            return self._send(404, b"Resource not found")
        self._send(200, g.feed(module), {"Content-Type": "application/atom+xml"})

    def _exact(self, module: str, version: str) -> None:
        g = self.gallery
        g.exact_queries += 1
        if g.mode == "503":
            return self._send(503, b"Service Unavailable", {"Retry-After": "120"})
        found = (module, version) in g.packages and g.mode != "404"
        if not found:
            return self._send(404, b"Resource not found")
        self._send(200, g.feed(module, version, entry_only=True))

    def _package(self, path: str) -> None:
        g = self.gallery
        _, _, rest = path.partition("/package/")
        module, _, version = rest.partition("/")
        if g.mode == "loop":
            return self._send(302, b"", {"Location": "/loop/0"})
        if g.cdn_base:
            return self._send(302, b"", {"Location": f"{g.cdn_base}/blob/{module}.{version}.nupkg"})
        self._body(g.packages[(module, version)])

    def _blob(self, path: str) -> None:
        name = path.rsplit("/", 1)[-1].removesuffix(".nupkg")
        for (mid, ver), data in self.gallery.packages.items():
            if f"{mid}.{ver}" == name:
                return self._body(data)
        self._send(404, b"no blob")

    def _body(self, data: bytes) -> None:
        mode = self.gallery.mode
        if mode == "truncated":
            return self._send(200, data[: len(data) // 2], {"Content-Type": "application/zip"})
        if mode in ("cut", "stall"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if mode == "stall":
                self.gallery.stop.wait(60)
            self.close_connection = True
            return None
        self._send(200, data, {"Content-Type": "application/zip"})

    def _bootstrap(self, path: str) -> None:
        if path == "/bootstrap/fwlink":
            return self._send(
                302, b"", {"Location": "/bootstrap/providers.masterList.feed.swidtag"}
            )
        if path.endswith("nuget-2.8.5.208.package.swidtag"):
            return self._send(200, b"<SoftwareIdentity/>")
        body = (
            b'<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd">'
            b'<Link href="nuget-2.8.5.208.package.swidtag" rel="package"/>'
            b'<Link href="psl.feed.swidtag" rel="feed"/></SoftwareIdentity>'
        )
        self._send(200, body)


class CdnHandler(GalleryHandler):
    """Serves /blob/<id>.<version>.nupkg from another origin."""

    role = "cdn"


class Proxy407Handler(_Quiet):
    """A proxy that wants credentials for everything, tunnels included."""

    def _deny(self) -> None:
        self._send(407, b"proxy auth", {"Proxy-Authenticate": 'Basic realm="corp"'})

    do_GET = _deny
    do_CONNECT = _deny


class TunnelProxyHandler(_Quiet):
    """A proxy: CONNECT tunnels and plain GETs; demands Basic credentials when `wanted` is set."""

    wanted: str = ""
    tunnels: list[str]

    def do_CONNECT(self) -> None:
        self.tunnels.append(self.path)
        if self.wanted and self.headers.get("Proxy-Authorization") != self.wanted:
            self._send(407, b"proxy auth", {"Proxy-Authenticate": 'Basic realm="corp"'})
            return
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        pair = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(pair, [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()

    def do_GET(self) -> None:
        """Forward an absolute-form GET (a plain http:// URL through the proxy)."""
        self.tunnels.append(self.path)
        if self.wanted and self.headers.get("Proxy-Authorization") != self.wanted:
            self._send(407, b"proxy auth", {"Proxy-Authenticate": 'Basic realm="corp"'})
            return
        url = urlsplit(self.path)
        conn = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=10)
        try:
            conn.request("GET", url.path + (f"?{url.query}" if url.query else ""))
            resp = conn.getresponse()
            body = resp.read()
            headers = {k: v for k, v in resp.getheaders() if k.lower() == "location"}
            self._send(resp.status, body, headers)
        finally:
            conn.close()


def tunnel_proxy(wanted: str = "") -> tuple[type[TunnelProxyHandler], list[str]]:
    """A handler class with its own list of the tunnels asked for."""
    tunnels: list[str] = []
    handler = type("T", (TunnelProxyHandler,), {"wanted": wanted, "tunnels": tunnels})
    return handler, tunnels


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def serve(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Run a server on 127.0.0.1 in a thread; yield its base URL."""
    server = _Server(("127.0.0.1", 0), handler)
    server.tls = tls
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def gallery(
    mode: str = "healthy",
    *,
    tls: ssl.SSLContext | None = None,
    cdn: bool = True,
    cdn_tls: ssl.SSLContext | None = None,
) -> Iterator[Gallery]:
    """A gallery (and a CDN on another port it redirects downloads to)."""
    g = Gallery(mode=mode)
    g.packages = {(MODULE, v): make_package(MODULE, v) for v in VERSIONS}
    if mode == "badupload":  # damaged before the feed hashed it: hash matches, zip does not
        g.packages = {k: _flip_payload_byte(v) for k, v in g.packages.items()}
    handler = type("H", (GalleryHandler,), {"gallery": g})
    cdn_handler = type("C", (CdnHandler,), {"gallery": g})
    with serve(handler, tls) as base, serve(cdn_handler, cdn_tls) as cdn_base:
        g.base = base + "/api/v2"
        g.cdn_base = cdn_base if cdn else ""
        try:
            yield g
        finally:
            g.stop.set()


# ---------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certs:
    """PEM files: a CA, and server cert/key pairs that are good, expired or self-signed."""

    ca: Path
    good: tuple[Path, Path]
    expired: tuple[Path, Path]
    selfsigned: tuple[Path, Path]


def make_certs(folder: Path) -> Certs:
    """Generate a test CA and three 127.0.0.1 server certificates with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(
        subject: str, k: Any, issuer: str, signer: Any, days: tuple[int, int], ca: bool
    ) -> Any:
        b = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days[0]))
            .not_valid_after(now + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            import ipaddress

            san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return b.sign(signer, hashes.SHA256())

    def write(stem: str, c: Any, k: Any) -> tuple[Path, Path]:
        cp, kp = folder / f"{stem}.crt", folder / f"{stem}.key"
        cp.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        kp.write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        return cp, kp

    ca_key = key()
    ca_cert = cert("psgdiag test CA", ca_key, "psgdiag test CA", ca_key, (-30, 365), True)
    ca_path, _ = write("ca", ca_cert, ca_key)
    good_key, old_key, self_key = key(), key(), key()
    good = cert("127.0.0.1", good_key, "psgdiag test CA", ca_key, (-1, 90), False)
    old = cert("127.0.0.1", old_key, "psgdiag test CA", ca_key, (-90, -1), False)
    own = cert("127.0.0.1", self_key, "127.0.0.1", self_key, (-1, 90), False)
    return Certs(
        ca_path,
        write("good", good, good_key),
        write("old", old, old_key),
        write("own", own, self_key),
    )


def server_context(pair: tuple[Path, Path], *, tls10_only: bool = False) -> ssl.SSLContext:
    """A server-side context; tls10_only acts out a server that knows nothing newer."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(pair[0]), str(pair[1]))
    if tls10_only:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


@contextmanager
def silent() -> Iterator[str]:
    """A TCP server that accepts connections and never says a word (a stuck TLS front end)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}/api/v2"
    finally:
        done.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()
