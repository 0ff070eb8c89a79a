"""Fetching the status page: one budget, a byte cap, credentials never shown.

The fetch (name lookup, connect, every read) runs in a worker thread that the command stops
waiting for when the --timeout budget is spent (psgdiag.budget); each read waits only for what
is left, and the body is capped at MAX_BYTES. Credentials in the URL (or
PSGDIAG_STATUS_CREDENTIALS) are sent to the page's origin and masked in every message.
"""

from __future__ import annotations

import os
from pathlib import Path

from psgdiag.budget import Deadline, TimeUp, run_bounded
from psgdiag.errors import InputError, NetworkError
from psgdiag.record import record
from psgdiag.redact import mask_url

# The live page is about 30 KB with a few dozen entries after ten years.
MAX_BYTES = 1024 * 1024
TIMEOUT = 15.0
CREDENTIALS_ENV = "PSGDIAG_STATUS_CREDENTIALS"
_HINT = "check the network or proxy (HTTPS_PROXY); the cached incidents were kept"


@record
class Fetched:
    """A fetched page (text None when the server said 304 Not Modified)."""

    text: str | None
    etag: str = ""
    last_modified: str = ""


def raw_url(url: str) -> str:
    """Turn a github.com/<owner>/<repo>/blob/<ref>/<path> address into its raw form."""
    prefix = "https://github.com/"
    if url.startswith(prefix) and "/blob/" in url:
        owner_repo, rest = url[len(prefix) :].split("/blob/", 1)
        return f"https://raw.githubusercontent.com/{owner_repo}/{rest}"
    return url


def _credentials(url: str) -> tuple[str, str] | None:
    """PSGDIAG_STATUS_CREDENTIALS (user:password) when the URL carries none of its own."""
    if "@" in url.partition("://")[2].split("/", 1)[0]:
        return None  # httpx takes them from the URL
    user, sep, password = os.environ.get(CREDENTIALS_ENV, "").partition(":")
    return (user, password) if sep and user else None


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = TIMEOUT,
    deadline: Deadline | None = None,
) -> Fetched:
    """GET the page with conditional headers, within the deadline and MAX_BYTES."""
    import httpx

    deadline = deadline or Deadline(timeout)
    shown = mask_url(url)
    headers = {
        "User-Agent": "psgdiag (incident sync)",
        "Accept": "text/plain, text/markdown, */*",
        "Accept-Encoding": "identity",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            httpx.Client(
                timeout=deadline.check(),
                follow_redirects=True,
                trust_env=True,
                auth=_credentials(url),
            ) as client,
            client.stream("GET", raw_url(url), headers=headers) as resp,
        ):
            if resp.status_code == 304:
                return Fetched(None, etag, last_modified)
            if resp.status_code != 200:
                raise NetworkError(f"{shown} answered HTTP {resp.status_code}", hint=_HINT)
            body = bytearray()
            for chunk in resp.iter_bytes():
                deadline.check()
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    raise InputError(
                        f"{shown} sent more than {MAX_BYTES >> 10} KiB: psgdiag reads at most "
                        f"{MAX_BYTES >> 10} KiB of a status page (the real one is about 30 KB)",
                        hint="is this the status page? The cached incidents were kept",
                    )
            etag, last_modified = (
                resp.headers.get(h, "")[:1000] for h in ("ETag", "Last-Modified")
            )
            return Fetched(bytes(body).decode("utf-8", "replace"), etag, last_modified)
    except TimeUp:
        raise timed_out(deadline, shown) from None
    except httpx.TimeoutException:
        raise timed_out(deadline, shown) from None
    except httpx.HTTPError as exc:
        detail = _scrub(" ".join(str(exc).split())[:160], url)
        why = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise NetworkError(f"could not fetch {shown} ({why})", hint=_HINT) from None


def _scrub(text: str, url: str) -> str:
    """An error text with the URL's secret masked wherever it appears."""
    text = mask_url(text).replace(url, mask_url(url))
    netloc = url.partition("://")[2].split("/", 1)[0]
    secret = netloc.rpartition("@")[0].partition(":")[2] if "@" in netloc else ""
    return text.replace(secret, "***") if len(secret) >= 3 else text


def timed_out(deadline: Deadline, shown: str, doing: str = "fetching") -> NetworkError:
    """The error for a spent budget: exit 6, "timed out", the masked URL."""
    return NetworkError(
        f"timed out: the overall --timeout of {deadline.total:g} s ran out {doing} {shown}",
        hint=_HINT,
    )


def fetch_bounded(url: str, deadline: Deadline, meta: dict[str, str] | None = None) -> Fetched:
    """fetch() in a worker the command stops waiting for when the budget is spent."""
    meta = meta or {}

    def work() -> Fetched:
        return fetch(
            url,
            etag=meta.get("etag", ""),
            last_modified=meta.get("last_modified", ""),
            deadline=deadline,
        )

    try:
        return run_bounded(work, deadline, name="psgdiag-fetch")
    except TimeUp:
        raise timed_out(deadline, mask_url(url)) from None


def read_source(source: str, *, timeout: float = TIMEOUT) -> str:
    """Return the text of a status page given as a file path or an http(s) URL (capped)."""
    if source.startswith(("http://", "https://")):
        return fetch_bounded(source, Deadline(timeout)).text or ""
    try:
        with Path(source).open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"no such file: {source}", hint="pass a Markdown file or a URL") from None
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{source} is larger than {MAX_BYTES >> 10} KiB: psgdiag reads at most "
            f"{MAX_BYTES >> 10} KiB of a status page (the real one is about 30 KB)",
            hint="pass the status page itself",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot read {source}: {exc}", hint="pass a UTF-8 Markdown file"
        ) from None
