"""The synced-incident cache file: written so that it cannot be lost.

The cache (history.cache_path()) is a TOML file of [[incident]] tables plus a [sync] table with
the validators of the last good fetch. Every string is escaped for TOML; the new text is read
back and compared with what it must hold before it replaces the old file (temp file + rename);
a cache that does not parse is set aside, never overwritten. Each incident carries the page
heading it came from (`page_heading`): a later page updates the incident with the same heading
and never another one, however their windows overlap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from psgdiag.errors import ExitCode, InputError, KbError, PsgdiagError
from psgdiag.incidents import history as inc_mod
from psgdiag.model import Incident
from psgdiag.record import record, replace
from psgdiag.render.styled import safe

MAX_CACHED = 2000  # incidents kept; the real page has listed a few dozen in ten years
_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"'}
_ESCAPES[0x5C] = "\\\\"


@record
class Cache:
    """What the cache file holds; `problem` says why it could not be read (None: it could)."""

    incidents: tuple[Incident, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    headings: tuple[tuple[str, str], ...] = ()  # (incident id, page heading)
    problem: str | None = None


def toml_string(text: str) -> str:
    """A TOML basic string for any text: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\uFFFD")  # a lone surrogate is no character: TOML cannot hold it
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def displayable(text: str) -> str:
    """Text safe for a terminal: control characters (but TAB) become U+FFFD."""
    return safe(text)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return toml_string(str(value))


def dump_cache(
    incidents: Sequence[Incident],
    meta: Mapping[str, str],
    headings: Mapping[str, str] | None = None,
) -> str:
    """Serialise incidents (with their page headings) and the sync validators as TOML."""
    headings = headings or {}
    lines = ["# Incidents learned by `psgdiag incidents sync`; rewritten on every sync.", ""]
    lines.append("[sync]")
    lines.extend(f"{k} = {_value(v)}" for k, v in sorted(meta.items()))
    for inc in incidents:
        lines += ["", "[[incident]]"]
        row: dict[str, object] = {
            "id": inc.id,
            "title": inc.title,
            "start": inc.start,
            "end": inc.end,
            "end_assumed": inc.end_assumed,
            "end_reason": inc.end_reason,
            "state": inc.state,
            "certainty": inc.certainty,
            "kind": inc.kind,
            "impact": inc.impact,
            "causes": inc.causes,
            "summary": inc.summary,
            "root_cause": inc.root_cause,
            "workaround": inc.workaround,
            "symptoms": inc.symptoms,
            "sources": inc.sources,
            "permanent": inc.permanent,
            "page_heading": headings.get(inc.id, ""),
        }
        lines.extend(f"{k} = {_value(v)}" for k, v in row.items() if v not in (None, "", ()))
    return "\n".join(lines) + "\n"


def parse_cache(text: str, where: str) -> Cache:
    """Read a cache document; raise KbError (or TOMLDecodeError) when it is not one."""
    raw = tomllib.loads(text)
    incidents = inc_mod.parse_incidents_data(raw, where)
    meta = raw.get("sync", {})
    if not isinstance(meta, dict):
        raise KbError([f"{where}: [sync] must be a table"])
    headings = tuple(
        (str(item.get("id", "")), str(item["page_heading"]))
        for item in raw.get("incident", [])
        if isinstance(item, dict) and "page_heading" in item
    )
    pairs = tuple((str(k), str(v)) for k, v in meta.items())
    return Cache(incidents, pairs, headings)


def load_cache(path: Path) -> Cache:
    """The cache as it is on disk: empty when missing; `problem` set when it does not parse.

    A cache that exists but cannot be read at all (permissions) is an InputError: nothing may
    be written over it.
    """
    try:
        text = path.read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return Cache()  # no cache yet (a folder on the way missing is for the write to report)
    except UnicodeDecodeError as exc:
        return Cache(problem=f"not UTF-8 ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        raise InputError(
            f"cannot read the incident cache {path}: {exc.strerror or exc}",
            hint="fix its permissions, or set PSGDIAG_DATA_DIR to another folder",
        ) from None
    try:
        return parse_cache(text, str(path))
    except tomllib.TOMLDecodeError as exc:
        return Cache(problem=f"invalid TOML: {exc}")
    except KbError as exc:
        return Cache(problem=exc.problems[0])


def set_aside(path: Path, now: dt.datetime) -> Path:
    """Rename a cache that does not parse to a name no later sync writes to; return it."""
    stem = f"{path.name}.broken-{now:%Y%m%dT%H%M%SZ}"
    target = path.with_name(stem)
    n = 2
    while target.exists():
        target, n = path.with_name(f"{stem}-{n}"), n + 1
    path.rename(target)
    return target


def verify(text: str, expected: Cache, path: Path) -> None:
    """Check that text reads back as `expected` before it may replace the cache at path."""
    try:
        back = parse_cache(text, str(path))
    except (tomllib.TOMLDecodeError, KbError) as exc:
        back = Cache(problem=str(exc))
    same = (back.incidents, dict(back.meta), dict(back.headings)) == (
        expected.incidents,
        dict(expected.meta),
        dict(expected.headings),
    )
    if back.problem or not same:
        raise PsgdiagError(
            f"the new incident cache did not read back as written ({back.problem or 'it differs'})"
            f"; {path} was left as it was",
            hint="run again with --debug and report it",
            code=ExitCode.INTERNAL,
        )


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def heading_key(heading: str) -> str:
    """A page heading as an identity: its words and numbers, lower case.

    A key longer than 200 characters keeps its first 200 and a digest of the whole, so two long
    headings that differ only at their end stay two incidents.
    """
    key = " ".join(re.findall(r"[a-z0-9]+", heading.casefold()))
    if len(key) <= 200:
        return key
    return f"{key[:200]} #{hashlib.sha256(key.encode()).hexdigest()[:16]}"


@record
class Merged:
    """The cache after a merge, and what changed."""

    cache: Cache
    added: tuple[str, ...]
    updated: tuple[str, ...]


def merge(
    cache: Cache,
    parsed: Sequence[Incident],
    keys: Sequence[str],
    bundled_ids: set[str],
    meta: Mapping[str, str],
) -> Merged:
    """Merge a page into the cache by identity (its heading): nothing is dropped or taken over.

    An entry whose heading is already cached updates that incident; any other entry is new and
    gets a free id. An entry the parser matched to the bundled history is not cached. Within one
    page a repeated heading counts once.
    """
    by_id = {i.id: i for i in cache.incidents}
    heading_of = dict(cache.headings)
    owner = {k: i for i, k in heading_of.items()}
    taken = set(by_id) | bundled_ids
    added: list[str] = []
    updated: list[str] = []
    seen: set[str] = set()
    for inc, key in zip(parsed, keys, strict=True):
        if inc.id in bundled_ids or key in seen:
            continue
        seen.add(key)
        old = owner.get(key)
        if old is None and inc.id in by_id and inc.id not in heading_of:
            old = inc.id  # a cache written before headings were kept: the same id is the entry
        if old is None:
            old = _free(inc.id, taken)
            taken.add(old)
            added.append(old)
        elif by_id[old] != replace(inc, id=old):
            updated.append(old)
        by_id[old] = replace(inc, id=old)
        heading_of[old], owner[key] = key, old
    incidents = tuple(sorted(by_id.values(), key=lambda i: (i.start, i.id)))
    headings = tuple(sorted((i, k) for i, k in heading_of.items() if i in by_id))
    merged = Cache(incidents, tuple(sorted(meta.items())), headings)
    return Merged(merged, tuple(added), tuple(updated))


def _free(base: str, taken: set[str]) -> str:
    new, n = base, 2
    while new in taken:
        new, n = f"{base}-{n}", n + 1
    return new
