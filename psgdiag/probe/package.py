"""The package itself: download (streamed to disk), zip structure, hash against the feed."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zipfile
from contextlib import closing
from pathlib import Path

from psgdiag.probe.feed import Entry, same_version
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
from psgdiag.probe.model import Deadline, Step, StepTimer, outcome_cause

MAX_DOWNLOAD = 1024 * 1024 * 1024
EOCD = b"PK\x05\x06"
EOCD_SPAN = 22 + 65535  # the record plus the longest comment
NUSPEC_CAP = 1024 * 1024
MAX_UNPACKED = 4 * 1024 * 1024 * 1024


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
                detail = f"{route}: {resp.status_code} {resp.reason_phrase}"
                detail += f"; Retry-After: {wait} (reported, not waited for)" if wait else ""
                data: dict[str, object] = {"status": resp.status_code, "retry_after": wait}
                return Step("download", "fail", detail, timer.ms(), cause, data=data)
            length = resp.headers.get("content-length")
            cap = MAX_DOWNLOAD if entry.size is None else min(MAX_DOWNLOAD, entry.size * 2 + 65536)
            with dest.open("wb") as out:
                for chunk in resp.iter_raw():
                    deadline.check()
                    out.write(chunk)
                    received += len(chunk)
                    if received > cap:
                        break
            status = resp.status_code
    except transport_errors() as exc:
        cause, why = classify(exc)
        route = " -> ".join(dict.fromkeys(host_label(u) for u in tried))
        detail = f"download via {route} failed after {received} bytes: {why}"
        if received and _cut_short(exc):
            cause = outcome_cause("package-damaged")  # the body ended before its Content-Length
        return Step("download", "fail", detail, timer.ms(), cause, data={"received": received})
    advertised = int(length) if length and length.isdigit() else None
    data = {
        "status": status,
        "hosts": hosts,
        "content_length": advertised,
        "received": received,
        "package_size": entry.size,
    }
    detail = f"{route}: {status}, Content-Length {advertised}, received {received} bytes"
    short = [n for n in (advertised, entry.size) if n is not None and received < n]
    if short:
        detail += f": {max(short) - received} bytes short of the advertised {max(short)}"
        return Step(
            "download", "fail", detail, timer.ms(), outcome_cause("package-damaged"), data=data
        )
    if received > cap or (advertised is not None and received > advertised):
        detail += ": more bytes than advertised"
        return Step(
            "download", "fail", detail, timer.ms(), outcome_cause("package-damaged"), data=data
        )
    return Step("download", "pass", detail, timer.ms(), data=data)


def _cut_short(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.RemoteProtocolError)


def step_zip(path: Path, entry: Entry, deadline: Deadline) -> Step:
    """Check the End of Central Directory record, the central directory and the .nuspec."""
    timer = StepTimer()
    size = path.stat().st_size if path.exists() else 0
    with path.open("rb") as f:
        f.seek(max(0, size - EOCD_SPAN))
        tail = f.read()
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        detail = (
            f"no End of Central Directory record in the last {len(tail)} bytes of {size}: "
            "the file is cut short or is not a zip (Install-Module fails the same way)"
        )
        return Step("zip", "fail", detail, timer.ms(), outcome_cause("package-damaged"))
    fields = struct.unpack("<4sHHHHIIH", tail[at : at + 22])
    total, cd_size, cd_offset = fields[4], fields[5], fields[6]
    eocd_pos = size - len(tail) + at
    zip64 = cd_offset == 0xFFFFFFFF or total == 0xFFFF
    if not zip64 and cd_offset + cd_size > eocd_pos:
        detail = f"the central directory ({cd_size} bytes at {cd_offset}) runs past the EOCD"
        return Step("zip", "fail", detail, timer.ms(), outcome_cause("package-damaged"))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if not zip64 and len(infos) != total:
                detail = f"EOCD promises {total} entries, central directory holds {len(infos)}"
                return Step("zip", "fail", detail, timer.ms(), outcome_cause("package-damaged"))
            bad = _first_bad_entry(zf, infos, deadline)
            if bad is not None:
                detail = f"{len(infos)} entries, but {bad}"
                return Step("zip", "fail", detail, timer.ms(), outcome_cause("package-damaged"))
            nuspec = _nuspec(zf)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        detail = f"the zip cannot be read: {exc}"
        return Step("zip", "fail", detail, timer.ms(), outcome_cause("package-damaged"))
    if nuspec is None:
        detail = f"{len(infos)} entries but no .nuspec at the root: not a NuGet package"
        return Step("zip", "fail", detail, timer.ms(), outcome_cause("package-damaged"))
    name, nid, nver = nuspec
    detail = f"EOCD and {len(infos)} central directory entries intact; {name}: {nid} {nver}"
    if nid.lower() != entry.id.lower() or not same_version(nver, entry.version):
        detail += f" (the feed said {entry.id} {entry.version})"
    data: dict[str, object] = {"entries": len(infos), "nuspec": name, "id": nid, "version": nver}
    return Step("zip", "pass", detail, timer.ms(), data=data)


def _first_bad_entry(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], deadline: Deadline
) -> str | None:
    """Read every entry to its end (which checks its CRC), within the deadline and a size cap."""
    total = 0
    for info in infos:
        try:
            with zf.open(info) as f:
                while block := f.read(1024 * 1024):
                    deadline.check()
                    total += len(block)
                    if total > MAX_UNPACKED:
                        return f"it unpacks to more than {MAX_UNPACKED >> 20} MB (a zip bomb?)"
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            return f"{info.filename} cannot be unpacked: {exc}"
    return None


def _nuspec(zf: zipfile.ZipFile) -> tuple[str, str, str] | None:
    for info in zf.infolist():
        if info.filename.lower().endswith(".nuspec") and "/" not in info.filename:
            with zf.open(info) as f:
                text = f.read(NUSPEC_CAP).decode("utf-8", "replace")
            nid = re.search(r"<id>\s*([^<]*?)\s*</id>", text)
            nver = re.search(r"<version>\s*([^<]*?)\s*</version>", text)
            return (
                info.filename,
                nid.group(1) if nid else "?",
                nver.group(1) if nver else "?",
            )
    return None


def step_hash(path: Path, entry: Entry, deadline: Deadline) -> Step:
    """Hash what arrived with the feed's algorithm and compare with the feed's base64 hash."""
    timer = StepTimer()
    if not entry.hash:
        return Step("hash", "skip", "the feed advertises no PackageHash to compare with")
    algorithm = entry.hash_algorithm.lower().replace("-", "")
    try:
        digest = hashlib.new(algorithm)
    except ValueError:
        return Step("hash", "skip", f"unknown PackageHashAlgorithm {entry.hash_algorithm!r}")
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            deadline.check()
            digest.update(block)
    got = base64.b64encode(digest.digest()).decode()
    data: dict[str, object] = {"algorithm": entry.hash_algorithm, "expected": entry.hash}
    data["actual"] = got
    if got == entry.hash.strip():
        detail = f"{entry.hash_algorithm} matches the feed"
        return Step("hash", "pass", detail, timer.ms(), data=data)
    detail = (
        f"{entry.hash_algorithm} of what arrived ({got[:16]}...) differs from the feed's "
        f"({entry.hash[:16]}...)"
    )
    return Step(
        "hash", "fail", detail, timer.ms(), outcome_cause("package-hash-differs"), data=data
    )
