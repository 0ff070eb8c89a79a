"""Probe steps below HTTP: name resolution, TCP connect (direct or via a proxy), TLS."""

from __future__ import annotations

import base64
import datetime as dt
import socket
import ssl
import threading
import urllib.request
import warnings
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from psgdiag.probe import Deadline, ProbeTimeout, Step, StepTimer
from psgdiag.probe_cert import CertInfo, from_peercert, peek

# OpenSSL reasons meaning "no TLS version in common" (the server is older or newer than us).
_VERSION_REASONS = (
    "UNSUPPORTED_PROTOCOL",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
    "WRONG_VERSION_NUMBER",
    "VERSION_TOO_LOW",
)


@dataclass(frozen=True)
class Target:
    """Where a request goes: the origin and, when one applies, the proxy it goes through."""

    scheme: str
    host: str
    port: int
    proxy: str | None


class TunnelError(Exception):
    """A proxy refused to open a tunnel; carries its HTTP status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def target_for(url: str, explicit_proxy: str | None) -> Target:
    """The origin of a URL and the proxy that applies to it (--proxy, else the environment)."""
    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    proxy = explicit_proxy
    if proxy is None:
        env = urllib.request.getproxies_environment()
        bypass = getattr(urllib.request, "proxy_bypass_environment", None)
        if bypass is None or not bypass(host, env):
            proxy = env.get(scheme) or env.get("all")
    if proxy and "://" not in proxy:
        proxy = "http://" + proxy  # HTTPS_PROXY=host:port, read the way httpx reads it
    return Target(scheme, host, port, proxy or None)


def resolve(host: str, port: int, deadline: Deadline) -> list[tuple[str, int]]:
    """getaddrinfo with the deadline applied (the call itself takes no timeout)."""
    box: dict[str, object] = {}

    def lookup() -> None:
        try:
            box["ok"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["err"] = exc

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(deadline.check())
    if thread.is_alive():
        raise ProbeTimeout(f"resolving {host} did not finish within the --timeout")
    err = box.get("err")
    if isinstance(err, OSError):
        raise err
    infos = box.get("ok")
    addrs: list[tuple[str, int]] = []
    if isinstance(infos, list):
        for info in infos:
            addr = (str(info[4][0]), int(info[4][1]))
            if addr not in addrs:
                addrs.append(addr)
    return addrs


def open_socket(target: Target, deadline: Deadline) -> tuple[socket.socket, str]:
    """A TCP socket to the origin, through a CONNECT tunnel when a proxy applies."""
    if target.proxy:
        p = urlsplit(target.proxy)
        hop_host, hop_port = p.hostname or "", p.port or (443 if p.scheme == "https" else 80)
    else:
        hop_host, hop_port = target.host, target.port
    addrs = resolve(hop_host, hop_port, deadline)
    last: OSError = OSError(f"{hop_host} has no address")
    for addr in addrs:
        try:
            sock = socket.create_connection(addr, timeout=deadline.check())
        except OSError as exc:
            last = exc
            continue
        how = f"{hop_host} ({addr[0]}) port {hop_port}"
        if target.proxy and target.scheme == "https":
            try:
                _tunnel(sock, target, deadline)
            except BaseException:
                sock.close()
                raise
            how += f", tunnel to {target.host}:{target.port} opened"
        return sock, how
    raise last


def _tunnel(sock: socket.socket, target: Target, deadline: Deadline) -> None:
    p = urlsplit(target.proxy or "")
    host = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 literal
    lines = [f"CONNECT {host}:{target.port} HTTP/1.1", f"Host: {host}:{target.port}"]
    if p.username:
        cred = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
        lines.append("Proxy-Authorization: Basic " + base64.b64encode(cred).decode())
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 65536:
        sock.settimeout(deadline.check())
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    head = buf.split(b"\r\n", 1)[0].decode("latin-1")
    bits = head.split(" ", 2)
    if len(bits) < 2 or not bits[1].isdigit():
        raise TunnelError(0, f"the proxy gave no HTTP answer to CONNECT ({head[:60]!r})")
    status = int(bits[1])
    if not 200 <= status < 300:
        raise TunnelError(status, bits[2] if len(bits) > 2 else "")


def step_connect(target: Target, deadline: Deadline) -> Step:
    """Resolve the host (or proxy) and open a TCP connection (and a proxy tunnel)."""
    timer = StepTimer()
    via = f" via proxy {_safe_proxy(target.proxy)}" if target.proxy else ""
    host = urlsplit(target.proxy).hostname if target.proxy else target.host
    try:
        sock, how = open_socket(target, deadline)
    except TunnelError as exc:
        cause = "proxy-auth-required" if exc.status == 407 else "network-unreachable"
        return Step("connect", "fail", f"the proxy refused CONNECT{via}: {exc}", timer.ms(), cause)
    except socket.gaierror as exc:
        return Step(
            "connect",
            "fail",
            f"cannot resolve {host}{via}: {exc}",
            timer.ms(),
            "network-unreachable",
        )
    except (OSError, ProbeTimeout) as exc:
        return Step(
            "connect", "fail", f"could not connect{via}: {exc}", timer.ms(), "network-unreachable"
        )
    sock.close()
    return Step("connect", "pass", f"connected to {how}{via}", timer.ms())


def _safe_proxy(proxy: str | None) -> str:
    p = urlsplit(proxy or "")
    return f"{p.scheme}://{p.hostname}:{p.port}" if p.port else f"{p.scheme}://{p.hostname}"


def client_context() -> ssl.SSLContext:
    """The verifying context used for every TLS connection (system store, SSL_CERT_FILE)."""
    ctx = ssl.create_default_context()
    if not ctx.cert_store_stats().get("x509_ca"):
        try:
            import certifi

            ctx.load_verify_locations(certifi.where())
        except (ImportError, OSError):
            pass
    return ctx


def step_tls(target: Target, deadline: Deadline) -> Step:
    """A verified TLS handshake: negotiated version, certificate subject, issuer and expiry."""
    timer = StepTimer()
    try:
        sock, _ = open_socket(target, deadline)
    except (OSError, TunnelError, ProbeTimeout) as exc:
        return Step("tls", "fail", f"could not reconnect: {exc}", timer.ms(), "network-unreachable")
    try:
        with client_context().wrap_socket(sock, server_hostname=target.host) as tls:
            version = tls.version() or "?"
            cipher = (tls.cipher() or ("?",))[0]
            cert = tls.getpeercert() or {}
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        return _rejected(exc, target, deadline, timer)
    except ssl.SSLError as exc:
        sock.close()
        return _handshake_failure(exc, timer)
    except TimeoutError:
        sock.close()
        detail = "the TLS handshake got no answer before the --timeout ran out"
        return Step("tls", "fail", detail, timer.ms(), "network-unreachable")
    except OSError as exc:
        sock.close()
        return Step(
            "tls",
            "fail",
            f"the connection dropped during the TLS handshake: {exc}",
            timer.ms(),
            "network-unreachable",
        )
    info = from_peercert(cert)
    detail = f"{version} ({cipher}); " + info.describe(dt.datetime.now(dt.UTC))
    data: dict[str, object] = {"version": version, "cipher": cipher}
    data.update(_cert_data(info))
    return Step("tls", "pass", detail, timer.ms(), data=data)


def _rejected(
    exc: ssl.SSLCertVerificationError, target: Target, deadline: Deadline, timer: StepTimer
) -> Step:
    """A failed verification, with what the certificate says (read on a second, unverified try)."""
    why = exc.verify_message or exc.reason or str(exc)
    data: dict[str, object] = {"verify_code": exc.verify_code, "verify_message": why}
    detail = f"certificate rejected: {why}"
    try:
        sock, _ = open_socket(target, deadline)
    except (OSError, TunnelError, ProbeTimeout):
        sock = None
    info = peek(sock, target.host) if sock is not None else None
    if info is not None:
        detail += "; " + info.describe(dt.datetime.now(dt.UTC))
        data.update(_cert_data(info))
    return Step("tls", "fail", detail, timer.ms(), "gallery-certificate-invalid", data=data)


def _cert_data(info: CertInfo) -> dict[str, object]:
    def iso(when: dt.datetime | None) -> str | None:
        return when.isoformat() if when else None

    return {
        "subject": info.subject,
        "issuer": info.issuer,
        "not_before": iso(info.not_before),
        "not_after": iso(info.not_after),
    }


def _handshake_failure(exc: ssl.SSLError, timer: StepTimer) -> Step:
    reason = exc.reason or ""
    if any(r in reason for r in _VERSION_REASONS):
        detail = (
            f"no TLS version in common ({reason}): the server does not offer TLS 1.2 or newer, "
            "which current clients require"
        )
        return Step("tls", "fail", detail, timer.ms(), "gallery-service-error")
    detail = f"TLS handshake failed ({reason or exc}): a TLS-inspecting proxy or firewall?"
    return Step("tls", "fail", detail, timer.ms(), "network-unreachable")


def legacy_context() -> ssl.SSLContext:
    """A client offering only TLS 1.0/1.1, like Windows PowerShell 5.1 on .NET defaults."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; lower it for this step only.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def step_tls_legacy(target: Target, deadline: Deadline) -> Step:
    """Would an old client that offers only TLS 1.0/1.1 get in? A refusal is a finding."""
    timer = StepTimer()
    if not (ssl.HAS_TLSv1 or ssl.HAS_TLSv1_1):
        return Step("tls-legacy", "skip", "this OpenSSL cannot speak TLS 1.0/1.1 at all")
    try:
        ctx = legacy_context()
        sock, _ = open_socket(target, deadline)
    except (OSError, TunnelError, ssl.SSLError, ValueError) as exc:
        return Step("tls-legacy", "skip", f"could not test: {exc}", timer.ms())
    try:
        with ctx.wrap_socket(sock, server_hostname=target.host) as tls:
            version = tls.version() or "TLS 1.x"
    except ssl.SSLError as exc:
        sock.close()
        detail = (
            f"the server refuses TLS 1.0 and 1.1 ({exc.reason or 'handshake failed'}): a client "
            "that offers no TLS 1.2 (Windows PowerShell 5.1 on .NET defaults, PowerShellGet "
            "before 2.2.4) cannot connect"
        )
        return Step("tls-legacy", "note", detail, timer.ms(), finding="tls12-required")
    except OSError as exc:
        sock.close()
        return Step("tls-legacy", "skip", f"could not test: {exc}", timer.ms())
    detail = f"the server still accepts {version}: old clients without TLS 1.2 can connect"
    return Step("tls-legacy", "pass", detail, timer.ms(), data={"version": version})
