"""Where a probe connection goes: the proxy that applies, name resolution, the CONNECT tunnel."""

from __future__ import annotations

import base64
import socket
import threading
import urllib.request
from urllib.parse import unquote, urlsplit

from psgdiag.probe.model import Deadline, ProbeTimeout
from psgdiag.record import record


@record
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


def safe_proxy(proxy: str | None) -> str:
    """A proxy URL without its credentials, for output."""
    p = urlsplit(proxy or "")
    return f"{p.scheme}://{p.hostname}:{p.port}" if p.port else f"{p.scheme}://{p.hostname}"
