"""The zip step: End of Central Directory, the central directory, every entry's CRC, the .nuspec.

The central directory is first walked header by header, in a stream: entries are counted up to
a cap and their flags read before zipfile sees the file, because zipfile keeps an object per
entry (a million empty entries cost it half a gigabyte) and raises on an encrypted one.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

from psgdiag.probe.atom import Entry
from psgdiag.probe.feed import same_version
from psgdiag.probe.model import Deadline, ProbeTimeout, Step, StepTimer, outcome_cause, printable
from psgdiag.record import record

EOCD = b"PK\x05\x06"
EOCD_SPAN = 22 + 65535  # the record plus the longest comment
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_END = b"PK\x06\x06"
CENTRAL = b"PK\x01\x02"
# Caps far above any PowerShell module (the largest hold a few thousand files).
MAX_ENTRIES = 65_535
MAX_DIRECTORY = 32 * 1024 * 1024
MAX_UNPACKED = 4 * 1024 * 1024 * 1024
NUSPEC_CAP = 1024 * 1024


@record
class Directory:
    """Where the central directory is, how many entries it says it holds, and whether zip64."""

    offset: int
    size: int
    total: int
    zip64: bool


class Unusable(Exception):
    """A zip past one of the caps, or built in a way no client extracts; the message says which."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def step_zip(path: Path, entry: Entry, deadline: Deadline) -> Step:
    """Check the End of Central Directory record, the central directory and the .nuspec."""
    timer = StepTimer()

    def fail(detail: str, outcome: str = "package-damaged") -> Step:
        return Step("zip", "fail", detail, timer.ms(), outcome_cause(outcome))

    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            where = locate(f, size)
            if isinstance(where, str):
                return fail(where)
            count = walk(f, where, deadline)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            bad = _first_bad_entry(zf, infos, deadline)
            nuspec = None if bad else _nuspec(zf)
    except ProbeTimeout:
        raise
    except Unusable as exc:
        return fail(str(exc), exc.outcome)
    except Exception as exc:  # zipfile on bytes a server chose: any failure is about the bytes
        return fail(f"the zip cannot be read: {type(exc).__name__}: {printable(str(exc))}")
    if not where.zip64 and count != where.total:
        return fail(f"EOCD promises {where.total} entries, central directory holds {count}")
    if bad is not None:
        return fail(f"{len(infos)} entries, but {bad}")
    if nuspec is None:
        return fail(f"{len(infos)} entries but no .nuspec at the root: not a NuGet package")
    name, nid, nver = nuspec
    detail = f"EOCD and {len(infos)} central directory entries intact; {name}: {nid} {nver}"
    if nid.lower() != entry.id.lower() or not same_version(nver, entry.version):
        detail += f" (the feed said {entry.id} {entry.version})"
    data: dict[str, object] = {"entries": len(infos), "nuspec": name, "id": nid, "version": nver}
    return Step("zip", "pass", detail, timer.ms(), data=data)


def locate(f: BinaryIO, size: int) -> Directory | str:
    """Find the central directory from the EOCD (and the zip64 records); a problem as text."""
    f.seek(max(0, size - EOCD_SPAN))
    tail = f.read()
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        return (
            f"no End of Central Directory record in the last {len(tail)} bytes of {size}: "
            "the file is cut short or is not a zip (Install-Module fails the same way)"
        )
    fields = struct.unpack("<4sHHHHIIH", tail[at : at + 22])
    total, cd_size, cd_offset = fields[4], fields[5], fields[6]
    end = size - len(tail) + at
    zip64 = cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF or total == 0xFFFF
    if zip64 and end >= 20:
        f.seek(end - 20)
        locator = f.read(20)
        if locator[:4] == ZIP64_LOCATOR:
            record_at = struct.unpack("<Q", locator[8:16])[0]
            f.seek(record_at)
            z = f.read(56)
            if len(z) == 56 and z[:4] == ZIP64_END and record_at < end:
                total, cd_size, cd_offset = struct.unpack("<QQQ", z[32:56])
                end = record_at
    if cd_offset + cd_size > end:
        return f"the central directory ({cd_size} bytes at {cd_offset}) runs past the EOCD"
    if cd_size > MAX_DIRECTORY:
        raise Unusable(
            f"the central directory is {cd_size >> 20} MB (psgdiag reads at most "
            f"{MAX_DIRECTORY >> 20} MB of it): the server sent more than a client can use",
            "unusable",
        )
    # Data prepended to the archive shifts every offset; zipfile allows for it the same way.
    return Directory(end - cd_size, cd_size, total, zip64)


def walk(f: BinaryIO, where: Directory, deadline: Deadline) -> int:
    """Count the central directory's entries (up to MAX_ENTRIES) and check their flags."""
    f.seek(where.offset)
    left = where.size
    buf = b""
    pos = count = 0
    while True:
        if len(buf) - pos < 46 and left:
            buf, pos = _refill(f, buf, pos, left)
            left = where.size - (f.tell() - where.offset)
        if len(buf) - pos < 46:
            return count
        if buf[pos : pos + 4] != CENTRAL:
            raise Unusable(
                f"entry {count + 1} of the central directory is damaged", "package-damaged"
            )
        flags = struct.unpack_from("<H", buf, pos + 8)[0]
        n, e, c = struct.unpack_from("<HHH", buf, pos + 28)
        while len(buf) - pos < 46 + n + e + c and left:
            buf, pos = _refill(f, buf, pos, left)
            left = where.size - (f.tell() - where.offset)
        name = printable(buf[pos + 46 : pos + 46 + n].decode("utf-8", "replace"), 120)
        count += 1
        if count > MAX_ENTRIES:
            raise Unusable(
                f"the package holds more than {MAX_ENTRIES} entries (psgdiag checks at most "
                f"{MAX_ENTRIES}; a module has a few thousand at most): the server sent more "
                "than a client can use",
                "unusable",
            )
        if flags & 1:
            raise Unusable(
                f"{name} is flagged as encrypted: a NuGet package never is, and Install-Module "
                "cannot extract it",
                "package-damaged",
            )
        pos += 46 + n + e + c
        if count % 4096 == 0:
            deadline.check()


def _refill(f: BinaryIO, buf: bytes, pos: int, left: int) -> tuple[bytes, int]:
    return buf[pos:] + f.read(min(left, 1 << 20)), 0


def _first_bad_entry(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], deadline: Deadline
) -> str | None:
    """Read every entry to its end (which checks its CRC), within the deadline and a size cap."""
    total = 0
    for info in infos:
        deadline.check()
        try:
            with zf.open(info) as f:
                while block := f.read(1024 * 1024):
                    deadline.check()
                    total += len(block)
                    if total > MAX_UNPACKED:
                        raise Unusable(
                            f"it unpacks to more than {MAX_UNPACKED >> 20} MB (psgdiag unpacks "
                            "at most that much): a zip bomb?",
                            "unusable",
                        )
        except (ProbeTimeout, Unusable):
            raise
        except Exception as exc:  # zlib, struct, NotImplementedError ...: the entry's bytes
            return f"{printable(info.filename, 120)} cannot be unpacked: {printable(str(exc))}"
    return None


def element(text: str, tag: str) -> str | None:
    """The text of the first <tag>...</tag> (no nested markup), found in linear time."""
    opening, closing = f"<{tag}>", f"</{tag}>"
    at = text.find(opening)
    while at >= 0:
        start = at + len(opening)
        end = text.find("<", start)
        if end < 0:
            return None
        if text.startswith(closing, end):
            return text[start:end].strip()
        at = text.find(opening, end)
    return None


def _nuspec(zf: zipfile.ZipFile) -> tuple[str, str, str] | None:
    for info in zf.infolist():
        if info.filename.lower().endswith(".nuspec") and "/" not in info.filename:
            with zf.open(info) as f:
                text = f.read(NUSPEC_CAP).decode("utf-8", "replace")
            nid, nver = element(text, "id"), element(text, "version")
            return (
                printable(info.filename, 120),
                printable(nid, 120) if nid is not None else "?",
                printable(nver, 120) if nver is not None else "?",
            )
    return None
