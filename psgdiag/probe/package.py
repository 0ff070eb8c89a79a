"""The package itself: download (streamed to disk) and its hash against the feed's."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from psgdiag.probe.atom import Entry, count
from psgdiag.probe.http import (
    Session,
    classify,
    fetch,
    host_label,
    origin_of,
    retry_after,
    status_cause,
    transport_errors,
)
from psgdiag.probe.model import Deadline, ProbeTimeout, Step, StepTimer, outcome_cause, printable

MAX_DOWNLOAD = 1024 * 1024 * 1024  # the PowerShell Gallery takes packages of up to 250 MB
_DIGESTS: dict[str, Callable[[], hashlib._Hash]] = {
    "SHA512": hashlib.sha512,
    "SHA256": hashlib.sha256,
}


def package_url(repository: str, entry: Entry) -> str:
    """The feed's content link, or the conventional /package/<id>/<version>."""
    return entry.content or f"{repository}/package/{entry.id}/{entry.version}"


def step_download(
    session: Session,
    url: str,
    entry: Entry,
    dest: Path,
    deadline: Deadline,
    facts: dict[str, object],
) -> Step:
    """Stream the package to dest; compare Content-Length and the feed's size with what came."""
    timer = StepTimer()
    received = 0
    length: int | None = None
    in_body = False
    tried: list[str] = []
    try:
        fetched = fetch(session, url, deadline, tried)
        resp = fetched.response
        hosts = fetched.hosts
        if origin_of(fetched.chain[-1]) != session.origin:
            facts["cdn_host"] = host_label(fetched.chain[-1])
        route = " -> ".join(hosts)
        with closing(resp):
            cause = status_cause(resp.status_code, listing=False)
            if cause:
                wait = retry_after(resp)
                if wait:
                    facts["retry_after"] = wait
                detail = f"{route}: {resp.status_code} {printable(resp.reason_phrase, 80)}"
                detail += f"; Retry-After: {wait} (reported, not waited for)" if wait else ""
                data: dict[str, object] = {"status": resp.status_code, "retry_after": wait}
                return Step("download", "fail", detail, timer.ms(), cause, data=data)
            length = count(resp.headers.get("content-length", ""))
            cap = MAX_DOWNLOAD if entry.size is None else min(MAX_DOWNLOAD, entry.size * 2 + 65536)
            in_body = True
            with dest.open("wb") as out:
                for chunk in resp.iter_raw():
                    deadline.check()
                    out.write(chunk)
                    received += len(chunk)
                    if received > cap:
                        break
            status = resp.status_code
    except transport_errors() as exc:
        return _broken(exc, tried, received, length, entry, in_body, timer)
    data = {
        "status": status,
        "hosts": hosts,
        "content_length": length,
        "received": received,
        "package_size": entry.size,
    }
    detail = f"{route}: {status}, Content-Length {length}, received {received} bytes"

    def fail(why: str, outcome: str = "package-damaged") -> Step:
        return Step("download", "fail", detail + why, timer.ms(), outcome_cause(outcome), data=data)

    short = [n for n in (length, entry.size) if n is not None and received < n]
    if short:
        return fail(f": {max(short) - received} bytes short of the advertised {max(short)}")
    if received == 0:
        return fail(": the server sent an empty body, which is no package at all")
    if received > cap and entry.size is None:
        return fail(
            f": the package is larger than {MAX_DOWNLOAD >> 20} MB (psgdiag downloads at most "
            "that much; the gallery takes packages of up to 250 MB): the server sent more than "
            "a client can use",
            "unusable",
        )
    if received > cap or (length is not None and received > length):
        return fail(": more bytes than advertised")
    return Step("download", "pass", detail, timer.ms(), data=data)


def _broken(
    exc: BaseException,
    tried: list[str],
    received: int,
    length: int | None,
    entry: Entry,
    in_body: bool,
    timer: StepTimer,
) -> Step:
    """A download that failed: mid-body, a reset and a clean close are the same truncation."""
    import httpx

    cause, why = classify(exc)
    route = " -> ".join(dict.fromkeys(host_label(u) for u in tried))
    data: dict[str, object] = {"received": received, "content_length": length}
    ended = isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)
    if in_body and ended and not isinstance(exc, ProbeTimeout):
        # Whichever way the connection ended, the body stopped short: the bytes are damaged.
        how = "reset" if isinstance(exc, httpx.ReadError) else "closed"
        expected = length if length is not None else entry.size
        detail = (
            f"download via {route}: the connection was {how} after {received} of "
            f"{expected if expected is not None else 'an unknown number of'} bytes ({why})"
        )
        return Step(
            "download", "fail", detail, timer.ms(), outcome_cause("package-damaged"), data=data
        )
    detail = f"download via {route} failed after {received} bytes: {why}"
    return Step("download", "fail", detail, timer.ms(), cause, data=data)


def step_hash(path: Path, entry: Entry, deadline: Deadline) -> Step:
    """Hash what arrived with the feed's algorithm and compare with the feed's base64 hash."""
    timer = StepTimer()
    if not entry.hash:
        return Step("hash", "skip", "the feed advertises no PackageHash to compare with")
    shown = printable(entry.hash_algorithm, 40)
    make = _DIGESTS.get(entry.hash_algorithm.strip().upper().replace("-", ""))
    if make is None:
        detail = (
            f"the feed names PackageHashAlgorithm {shown!r}; NuGet clients know only "
            f"{' and '.join(_DIGESTS)}: the server sent something unusable"
        )
        return Step("hash", "fail", detail, timer.ms(), outcome_cause("unusable"))
    digest = make()
    try:
        expected = base64.b64decode(entry.hash.strip(), validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != digest.digest_size:
        detail = (
            f"the feed's PackageHash ({printable(entry.hash, 24)}...) is not a base64 "
            f"{shown} digest: the server sent something unusable"
        )
        return Step("hash", "fail", detail, timer.ms(), outcome_cause("unusable"))
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            deadline.check()
            digest.update(block)
    got = base64.b64encode(digest.digest()).decode()
    data: dict[str, object] = {"algorithm": shown, "expected": printable(entry.hash, 200)}
    data["actual"] = got
    if digest.digest() == expected:
        return Step("hash", "pass", f"{shown} matches the feed", timer.ms(), data=data)
    detail = (
        f"{shown} of what arrived ({got[:16]}...) differs from the feed's "
        f"({printable(entry.hash, 16)}...)"
    )
    return Step(
        "hash", "fail", detail, timer.ms(), outcome_cause("package-hash-differs"), data=data
    )
