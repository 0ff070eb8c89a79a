"""Collect a ticket queue: files, folders (recursively), .zip archives and .eml messages.

Collection only lists what to read; the bytes are read later, in the worker that diagnoses the
ticket (psgdiag.triage), so a large queue is read in parallel; e-mail messages are parsed there
by psgdiag.triage_mail. Archives are bounded: members are read in memory up to a size cap, and
an archive whose members would inflate past a total budget or at an implausible ratio (a zip
bomb) is refused member by member with a note, never read.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from psgdiag.pipeline.sniff import sniff
from psgdiag.record import record

#: A single log (or archive member) larger than this is not read whole.
MAX_MEMBER_BYTES = 16 * 1024 * 1024
#: The most an archive may inflate to in total, and the most members it may list.
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 10_000
#: Compression ratio above which a member counts as a zip bomb (text logs compress ~10:1).
MAX_RATIO = 150
#: Archives inside archives are opened this many levels deep.
MAX_ZIP_DEPTH = 2
_DOS_EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


@record
class Ticket:
    """One ticket to diagnose: where its bytes are, how to read them, and its file date."""

    path: str  # shown in reports; `archive.zip!member.log` for archive members
    fmt: str = "log"  # log | eml
    file: str = ""  # read this file ...
    member: str = ""  # ... or this member of the zip archive `file` ...
    data: bytes | None = None  # ... or these bytes (members of nested archives)
    when: dt.datetime | None = None  # file date: the fallback time of the ticket
    problem: str = ""  # set when the ticket cannot be read at all


def _mtime(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    except (OSError, ValueError, OverflowError):
        return None


def _zip_time(info: zipfile.ZipInfo) -> dt.datetime | None:
    try:
        when = dt.datetime(*info.date_time, tzinfo=dt.UTC)
    except ValueError:
        return None
    # Tools that do not record a date write the DOS epoch: that is "no date", not 1980.
    return None if when <= _DOS_EPOCH else when


def _fmt_of(name: str) -> str:
    return "eml" if name.lower().endswith(".eml") else "log"


def is_zip_name(name: str) -> bool:
    """Return True for a file name that ends in .zip."""
    return name.lower().endswith(".zip")


def _zip_tickets(source: zipfile.ZipFile, shown: str, file: str, depth: int) -> Iterator[Ticket]:
    """List the members of an open archive as tickets, refusing bombs and oversize members."""
    infos = [i for i in source.infolist() if not i.is_dir()]
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        yield Ticket(
            shown, problem=f"archive lists {len(infos)} members (limit {MAX_ARCHIVE_MEMBERS})"
        )
        return
    budget = MAX_ARCHIVE_BYTES
    for info in sorted(infos, key=lambda i: i.filename):
        name = f"{shown}!{info.filename}"
        base = info.filename.rsplit("/", 1)[-1]
        if not base or base.startswith("."):
            continue
        when = _zip_time(info)
        problem = ""
        if info.flag_bits & 0x1:
            problem = "archive member is encrypted"
        elif info.file_size > MAX_MEMBER_BYTES:
            problem = (
                f"archive member inflates to {info.file_size} bytes (limit {MAX_MEMBER_BYTES})"
            )
        elif info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            problem = "archive member compresses implausibly well (zip bomb?); not read"
        elif info.file_size > budget:
            problem = f"archive inflates past {MAX_ARCHIVE_BYTES} bytes in total; member not read"
        if problem:
            yield Ticket(name, when=when, problem=problem)
            continue
        budget -= info.file_size
        if is_zip_name(base) and depth < MAX_ZIP_DEPTH:
            data = read_member(source, info)
            if data is None:
                yield Ticket(name, when=when, problem="archive member is larger than it declared")
                continue
            yield from open_zip_bytes(data, name, depth + 1)
            continue
        if depth == 0:
            yield Ticket(name, fmt=_fmt_of(base), file=file, member=info.filename, when=when)
        else:
            data = read_member(source, info)
            if data is None:
                yield Ticket(name, when=when, problem="archive member is larger than it declared")
            else:
                yield Ticket(name, fmt=_fmt_of(base), data=data, when=when)


def open_zip_bytes(data: bytes, shown: str, depth: int) -> Iterator[Ticket]:
    """List the members of an in-memory archive as tickets that carry their bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            yield from _zip_tickets(zf, shown, "", depth)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        yield Ticket(shown, problem=f"not a readable zip archive ({exc})")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """Read one archive member, or None when it inflates past its declared size or the cap."""
    cap = min(info.file_size, MAX_MEMBER_BYTES)
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    return None if len(data) > cap else data


def _file_tickets(path: Path, shown: str) -> Iterator[Ticket]:
    when = _mtime(path)
    if is_zip_name(path.name):
        try:
            with zipfile.ZipFile(path) as zf:
                yield from _zip_tickets(zf, shown, str(path), 0)
            return
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            yield Ticket(shown, when=when, problem=f"not a readable zip archive ({exc})")
            return
    yield Ticket(shown, fmt=_fmt_of(path.name), file=str(path), when=when)


def _walk(root: Path, shown: str) -> Iterator[Ticket]:
    """Yield the tickets under a folder, sorted, without following symlinked folders."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            label = os.path.join(shown, name) if rel == "." else os.path.join(shown, rel, name)
            if full.is_file():
                yield from _file_tickets(full, label)


def collect(paths: list[str]) -> list[Ticket]:
    """Return the tickets under the given files and folders, in a stable order."""
    out: list[Ticket] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(_walk(path, raw.rstrip("/\\") or raw))
        elif path.is_file():
            out.extend(_file_tickets(path, raw))
        elif path.exists():
            out.append(Ticket(raw, problem="not a regular file or folder"))
        else:
            out.append(Ticket(raw, problem="no such file or folder"))
    return out


@functools.lru_cache(maxsize=4)
def _archive(path: str, mtime_ns: int, size: int) -> zipfile.ZipFile:
    """Open an archive once per process (per version of the file), not once per member."""
    del mtime_ns, size  # part of the cache key only
    return zipfile.ZipFile(path)


def load(ticket: Ticket) -> bytes:
    """Read a ticket's bytes (file, archive member or in-memory data); raise OSError."""
    if ticket.data is not None:
        return ticket.data
    if ticket.member:
        st = os.stat(ticket.file)
        zf = _archive(ticket.file, st.st_mtime_ns, st.st_size)
        data = read_member(zf, zf.getinfo(ticket.member))
        if data is None:
            raise OSError("archive member is larger than it declared")
        return data
    with open(ticket.file, "rb") as fh:
        return fh.read(MAX_MEMBER_BYTES + 1)


def looks_binary(data: bytes) -> bool:
    """Return True for bytes that are not a text log (psgdiag.pipeline.sniff, as `explain`)."""
    return sniff(data) is not None
