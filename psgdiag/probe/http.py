"""HTTP for the probe: one httpx client, redirects followed by hand, errors mapped to causes."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from psgdiag import __version__
from psgdiag.errors import NetworkError
from psgdiag.probe.model import Deadline, ProbeTimeout, outcome_cause, printable
from psgdiag.record import field, record

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 10
USER_AGENT = f"psgdiag/{__version__} (probe; NuGet v2 client like PowerShellGet)"


class RedirectLoop(Exception):
    """More redirects than any client follows."""


class TooLarge(Exception):
    """An answer past one of the probe's caps; the message names the cap."""


# OpenSSL reasons for a first answer that is not a TLS record at all (plain HTTP, say).
NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "PACKET_LENGTH")
CREDENTIALS_ENV = "PSGDIAG_REPOSITORY_CREDENTIALS"


def transport_errors() -> tuple[type[BaseException], ...]:
    """What a request can raise that says something about the route or the server (not a bug)."""
    import httpx

    return (httpx.HTTPError, httpx.InvalidURL, RedirectLoop, TooLarge, ProbeTimeout, OSError)


@record(frozen=False)
class Fetched:
    """A response being streamed, with the redirect chain that led to it."""

    response: httpx.Response
    chain: list[str] = field(default_factory=list)

    @property
    def hosts(self) -> list[str]:
        """The hosts (host:port when not the default) visited, in order, without repeats."""
        seen: list[str] = []
        for url in self.chain:
            host = host_label(url)
            if host not in seen:
                seen.append(host)
        return seen


@record
class Session:
    """The client plus the repository's origin and credentials (sent only there)."""

    client: httpx.Client
    origin: tuple[str, str, int]
    auth: tuple[str, str] | None


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Remove user:password from a URL, returning the clean URL and the credentials.

    Without credentials in the URL, PSGDIAG_REPOSITORY_CREDENTIALS (user:password) applies:
    a password kept out of the command line and the shell history.
    """
    p = urlsplit(url)
    if not p.username:
        user, sep, password = os.environ.get(CREDENTIALS_ENV, "").partition(":")
        return url, (user, password) if sep and user else None
    host = p.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if p.port:
        netloc += f":{p.port}"
    clean = urlunsplit((p.scheme, netloc, p.path, p.query, p.fragment))
    return clean, (unquote(p.username), unquote(p.password or ""))


def host_label(url: str) -> str:
    """host, or host:port when the port is not the scheme's default (no credentials)."""
    p = urlsplit(url)
    host = p.hostname or ""
    return f"{host}:{p.port}" if p.port and p.port != (443 if p.scheme == "https" else 80) else host


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL."""
    p = urlsplit(url)
    return (p.scheme, (p.hostname or "").lower(), p.port or (443 if p.scheme == "https" else 80))


@contextmanager
def open_session(
    url: str, proxy: str | None, ctx: ssl.SSLContext, *, credentials: bool = True
) -> Iterator[Session]:
    """An httpx client honouring --proxy, else HTTPS_PROXY/NO_PROXY; no automatic redirects.

    credentials=False: none are sent (a session for another origin than the repository's).
    """
    import httpx

    clean, auth = split_credentials(url)
    auth = auth if credentials else None
    try:
        client = httpx.Client(
            verify=ctx,
            proxy=proxy,
            trust_env=True,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        )
    except ImportError as exc:  # a socks:// proxy from the environment without socksio
        raise NetworkError(
            f"the proxy in use needs a package that is not installed ({exc})",
            hint="pip install 'httpx[socks]', or pass --proxy http://host:port",
        ) from None
    try:
        yield Session(client, origin_of(clean), auth)
    finally:
        client.close()


def fetch(
    session: Session, url: str, deadline: Deadline, chain: list[str] | None = None
) -> Fetched:
    """GET a URL streaming, following redirects; credentials go only to the repository origin."""
    import httpx

    # Each URL is appended as it is tried, so a caller's list shows which hop failed.
    chain = chain if chain is not None else []
    chain.append(url)
    for _ in range(MAX_REDIRECTS + 1):
        left = deadline.check()
        request = session.client.build_request("GET", url, timeout=httpx.Timeout(left))
        same = origin_of(url) == session.origin
        auth = httpx.BasicAuth(*session.auth) if (same and session.auth) else None
        response = session.client.send(request, stream=True, auth=auth)
        if not response.is_redirect:
            return Fetched(response, chain)
        location = response.headers.get("location", "")
        response.close()
        url = str(response.url.join(location))
        chain.append(url)
    raise RedirectLoop(f"more than {MAX_REDIRECTS} redirects: " + " -> ".join(chain[:4]) + " ...")


def read_capped(fetched: Fetched, cap: int, deadline: Deadline) -> bytes:
    """Read a (small) body, at most cap bytes, checking the deadline between chunks."""
    parts: list[bytes] = []
    size = 0
    for chunk in fetched.response.iter_raw():
        deadline.check()
        parts.append(chunk)
        size += len(chunk)
        if size > cap:
            raise TooLarge(
                f"the server sent more than {cap // 1024} KB (psgdiag reads at most that much "
                "of this answer)"
            )
    return b"".join(parts)


def classify(exc: BaseException) -> tuple[str, str]:
    """Map a transport failure to (cause id, one-line detail)."""
    import httpx

    if isinstance(exc, ProbeTimeout):
        return outcome_cause("unreachable"), str(exc)
    if isinstance(exc, RedirectLoop):
        return outcome_cause("service-error"), f"redirect loop: {exc}"
    if isinstance(exc, TooLarge):
        return outcome_cause("unusable"), str(exc)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return outcome_cause("service-error"), f"the server's answer cannot be used: {exc}"
    if isinstance(exc, httpx.ProxyError):
        text = str(exc)
        if text.startswith("407"):
            return outcome_cause("proxy-auth"), f"the proxy demands credentials ({text})"
        return outcome_cause("unreachable"), f"the proxy failed: {text}"
    if isinstance(exc, httpx.TimeoutException):
        # Every request waits only for what is left of the overall budget.
        why = f"timed out ({type(exc).__name__}): no answer within what was left of the --timeout"
        return outcome_cause("unreachable"), why
    root = _root(exc)
    if isinstance(root, ssl.SSLCertVerificationError):
        why = root.verify_message or root.reason or str(root)
        return outcome_cause("certificate-rejected"), f"certificate rejected: {why}"
    if isinstance(root, ssl.SSLError):
        reason = root.reason or str(root)
        if any(r in reason for r in NOT_TLS_REASONS):
            why = f"the server's answer is not TLS ({reason}): a plain http:// server there?"
            return outcome_cause("unreachable"), f"TLS failed: {why}"
        return outcome_cause("unreachable"), f"TLS failed: {reason}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return outcome_cause("unreachable"), f"the server broke the connection: {exc}"
    if isinstance(exc, httpx.TransportError):
        return outcome_cause("unreachable"), f"{type(exc).__name__}: {exc or root}"
    return outcome_cause("unreachable"), f"{type(exc).__name__}: {exc}"


def _root(exc: BaseException) -> BaseException:
    seen = 0
    while seen < 10:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            return exc
        exc = nxt
        seen += 1
    return exc


def status_cause(status: int, *, listing: bool) -> str | None:
    """The cause an HTTP status shows; listing=True for the feed query (404 = no such module)."""
    if status < 400:
        return None
    if status == 407:
        return outcome_cause("proxy-auth")
    if status in (401, 403):
        return outcome_cause("auth-failed")
    if status in (404, 410) and listing:
        return outcome_cause("not-found")
    return outcome_cause("service-error")


def retry_after(response: httpx.Response) -> str | None:
    """The Retry-After header, reported and never waited for."""
    value = response.headers.get("retry-after")
    return printable(value.strip(), 64) if value else None
