"""Probe steps below HTTP: name resolution, TCP connect (direct or via a proxy), TLS."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import warnings
from urllib.parse import urlsplit

from psgdiag.probe.cert import CertInfo, from_peercert, peek
from psgdiag.probe.model import Deadline, ProbeTimeout, Step, StepTimer, outcome_cause
from psgdiag.probe.route import Target, TunnelError, open_socket, safe_proxy
from psgdiag.probe.shake import describe, handshake, not_tls

# OpenSSL reasons meaning "no TLS version in common" (the server is older or newer than us).
_VERSION_REASONS = (
    "UNSUPPORTED_PROTOCOL",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
    "WRONG_VERSION_NUMBER",
    "VERSION_TOO_LOW",
)


def step_connect(target: Target, deadline: Deadline) -> Step:
    """Resolve the host (or proxy) and open a TCP connection (and a proxy tunnel)."""
    timer = StepTimer()
    via = f" via proxy {safe_proxy(target.proxy)}" if target.proxy else ""
    host = urlsplit(target.proxy).hostname if target.proxy else target.host
    try:
        sock, how = open_socket(target, deadline)
    except TunnelError as exc:
        shown = outcome_cause("proxy-auth") if exc.status == 407 else outcome_cause("unreachable")
        return Step("connect", "fail", f"the proxy refused CONNECT{via}: {exc}", timer.ms(), shown)
    except socket.gaierror as exc:
        return Step(
            "connect",
            "fail",
            f"cannot resolve {host}{via}: {exc}",
            timer.ms(),
            outcome_cause("unreachable"),
        )
    except (OSError, ProbeTimeout) as exc:
        return Step(
            "connect",
            "fail",
            f"could not connect{via}: {exc}",
            timer.ms(),
            outcome_cause("unreachable"),
        )
    sock.close()
    return Step("connect", "pass", f"connected to {how}{via}", timer.ms())


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
        return Step(
            "tls", "fail", f"could not reconnect: {exc}", timer.ms(), outcome_cause("unreachable")
        )
    try:
        shake = handshake(sock, client_context(), target.host, deadline)
    except (TimeoutError, ProbeTimeout):
        detail = "the TLS handshake got no answer before the --timeout ran out"
        return Step("tls", "fail", detail, timer.ms(), outcome_cause("unreachable"))
    except OSError as exc:
        detail = f"the connection dropped during the TLS handshake: {exc}"
        return Step("tls", "fail", detail, timer.ms(), outcome_cause("unreachable"))
    finally:
        sock.close()
    if isinstance(shake.error, ssl.SSLCertVerificationError):
        return _rejected(shake.error, target, deadline, timer)
    if shake.error is not None and not_tls(shake.first):
        detail = (
            f"the server at {target.host}:{target.port} does not speak TLS: "
            f"{describe(shake.first)}. The URL says https:// but this port answers as http:// "
            "(a wrong repository URL, or something on the network answering in its place)"
        )
        return Step("tls", "fail", detail, timer.ms(), outcome_cause("not-tls"))
    if shake.error is not None or shake.tls is None:
        return _handshake_failure(shake.error or ssl.SSLError("no TLS session"), timer)
    version = shake.tls.version() or "?"
    cipher = (shake.tls.cipher() or ("?",))[0]
    cert = shake.tls.getpeercert() or {}
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
    return Step("tls", "fail", detail, timer.ms(), outcome_cause("certificate-rejected"), data=data)


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
        return Step("tls", "fail", detail, timer.ms(), outcome_cause("service-error"))
    detail = f"TLS handshake failed ({reason or exc}): a TLS-inspecting proxy or firewall?"
    return Step("tls", "fail", detail, timer.ms(), outcome_cause("unreachable"))


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
        shake = handshake(sock, ctx, target.host, deadline)
    except (OSError, ProbeTimeout) as exc:
        return Step("tls-legacy", "skip", f"could not test: {exc}", timer.ms())
    finally:
        sock.close()
    if not_tls(shake.first):
        detail = f"could not test: the server does not speak TLS ({describe(shake.first)})"
        return Step("tls-legacy", "skip", detail, timer.ms())
    if shake.error is not None or shake.tls is None:
        reason = (shake.error.reason if shake.error else None) or "handshake failed"
        detail = (
            f"the server refuses TLS 1.0 and 1.1 ({reason}): a client "
            "that offers no TLS 1.2 (Windows PowerShell 5.1 on .NET defaults, PowerShellGet "
            "before 2.2.4) cannot connect"
        )
        return Step(
            "tls-legacy", "note", detail, timer.ms(), finding=outcome_cause("legacy-tls-refused")
        )
    version = shake.tls.version() or "TLS 1.x"
    detail = f"the server still accepts {version}: old clients without TLS 1.2 can connect"
    return Step("tls-legacy", "pass", detail, timer.ms(), data={"version": version})
