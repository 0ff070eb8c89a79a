"""`incidents sync` / `incidents import`: fetch the status page within one budget, parse, merge.

--timeout is one budget for the whole command. The fetch runs in a worker the command stops
waiting for when the budget is spent (incidents.fetch); what it brings is capped (MAX_BYTES,
MAX_LINES, MAX_HEADINGS) and then parsed by the main thread in linear time, well under a
second, and checked against the same budget. (The
parse stays out of the worker: a thread abandoned inside RE2's C++ code would abort the
interpreter at exit.) The cache only ever grows and is written by the main thread alone
(incidents.store): entries that the page drops stay, entries the bundled history already has
are not duplicated. Credentials in the URL are used for the request, never stored or printed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from psgdiag.budget import Deadline
from psgdiag.errors import ExitCode, InputError, KbError, PsgdiagError
from psgdiag.incidents import history as inc_mod
from psgdiag.incidents import statuspage, store
from psgdiag.incidents.fetch import (
    CREDENTIALS_ENV,
    MAX_BYTES,
    TIMEOUT,
    Fetched,
    fetch,
    fetch_bounded,
    raw_url,
    read_source,
    timed_out,
)
from psgdiag.incidents.store import dump_cache, write_atomic
from psgdiag.model import Incident
from psgdiag.record import record, replace
from psgdiag.redact import mask_url

__all__ = [
    "CREDENTIALS_ENV",
    "MAX_BYTES",
    "Fetched",
    "dump_cache",
    "fetch",
    "import_page",
    "raw_url",
    "read_cache",
    "read_source",
    "sync",
    "write_atomic",
]

DEFAULT_URL = (
    "https://raw.githubusercontent.com/PowerShell/PowerShellGallery/master/psgallery_status.md"
)
MAX_LINES = 10_000
MAX_HEADINGS = 500
MAX_WARNINGS = 20
_OPEN_WINDOW = dt.timedelta(days=7)  # how far an open-ended known incident reaches, for matching


@record
class Page:
    """The incidents of a page, the heading each came from (its identity), and warnings."""

    incidents: tuple[Incident, ...]
    keys: tuple[str, ...]
    warnings: tuple[str, ...]


@record
class SyncResult:
    """What a sync changed."""

    status: str  # updated | unchanged
    added: tuple[str, ...]
    updated: tuple[str, ...]
    total: int
    path: Path
    warnings: tuple[str, ...] = ()


def _parse_bounded(text: str, source: str, deadline: Deadline, now: dt.datetime | None) -> Page:
    """parse_page() on this thread (linear, capped), then the budget checked once more."""
    page = parse_page(text, source, now=now)
    if deadline.remaining() <= 0:
        raise timed_out(deadline, mask_url(source), "parsing")
    return page


def _matchable(known: tuple[Incident, ...]) -> list[Incident]:
    """Known incidents with every open-ended window bounded, so none absorbs later entries."""
    return [
        replace(i, end_assumed=i.start + _OPEN_WINDOW)
        if i.end is None and i.end_assumed is None
        else i
        for i in known
    ]


def _clean(inc: Incident) -> Incident:
    """Control characters out of every text field; secrets out of the sources."""
    d = store.displayable
    return replace(
        inc,
        title=d(inc.title),
        summary=d(inc.summary).strip(),
        root_cause=d(inc.root_cause).strip(),
        workaround=d(inc.workaround).strip(),
        end_reason=" ".join(d(inc.end_reason).split()),  # as the cache reader reads it back
        state=d(inc.state),
        symptoms=tuple(d(s) for s in inc.symptoms),
        sources=tuple(d(mask_url(s)) for s in inc.sources),
    )


def _identity(inc: Incident, lines: list[str]) -> str:
    """The heading an entry came from (its source names the line), as an identity."""
    _, sep, number = (inc.sources[0] if inc.sources else "").rpartition(" line ")
    if sep and number.isascii() and number.isdigit() and 0 < int(number) <= len(lines):
        return store.heading_key(lines[int(number) - 1])
    return store.heading_key(f"{inc.start:%Y-%m-%d} {inc.title}")


def parse_page(text: str, source: str, now: dt.datetime | None = None) -> Page:
    """Parse a page against the bundled history; refuse one past the caps or with no entries."""
    lines = text.splitlines()
    headings = sum(1 for line in lines if line.startswith("##"))
    shown = mask_url(source)
    for count, cap, what in (
        (len(lines), MAX_LINES, "lines"),
        (headings, MAX_HEADINGS, "headings"),
    ):
        if count > cap:
            raise InputError(
                f"{shown} has {count} {what}: psgdiag reads at most {cap} {what} of a status "
                "page (the real one has a few hundred lines and a few dozen entries)",
                hint="is this the status page? Nothing was stored",
            )
    known = _matchable(inc_mod.bundled())
    result = statuspage.parse(text, source=shown, known=known, now=now)
    kept: list[Incident] = []
    keys: list[str] = []
    warnings = list(result.warnings)
    for inc in map(_clean, result.incidents):
        try:  # what the cache could not hold back is not learnt (an end before the start ...)
            store.parse_cache(dump_cache([inc], {}), inc.sources[0] if inc.sources else shown)
        except (KbError, tomllib.TOMLDecodeError) as exc:
            warnings.append(
                f"entry skipped: {exc.problems[0] if isinstance(exc, KbError) else exc}"
            )
            continue
        kept.append(inc)
        keys.append(_identity(inc, lines))
    if not kept:
        raise InputError(
            f"{shown} does not look like a status page: no dated entries found",
            hint="expected Markdown headings such as '## 7/13/2016 - Title' or "
            "'### May 2nd, 2022 16:41 UTC Title'",
        )
    return Page(tuple(kept), tuple(keys), _capped(warnings))


def _capped(warnings: list[str]) -> tuple[str, ...]:
    shown = [store.displayable(w)[:200] for w in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        shown.append(f"... and {len(warnings) - MAX_WARNINGS} more warnings")
    return tuple(shown)


def import_page(source: str, *, timeout: float = TIMEOUT) -> Page:
    """Read and parse a page (file or URL) within the --timeout budget; nothing is stored."""
    deadline = Deadline(timeout)
    if source.startswith(("http://", "https://")):
        text = fetch_bounded(source, deadline).text or ""
    else:
        text = read_source(source)
    return _parse_bounded(text, source, deadline, None)


def read_cache(path: Path) -> tuple[list[Incident], dict[str, str]]:
    """Return the cached incidents and sync validators; an unreadable cache counts as empty."""
    cache = store.load_cache(path)
    return list(cache.incidents), dict(cache.meta)


def sync(url: str = DEFAULT_URL, *, timeout: float = TIMEOUT) -> SyncResult:
    """Fetch the live status page and merge new incidents into the user cache."""
    deadline = Deadline(timeout)
    path = inc_mod.cache_path()
    cache = store.load_cache(path)
    meta = dict(cache.meta)
    shown = mask_url(url)
    same = meta.get("url") in (shown, url)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    got = fetch_bounded(url, deadline, meta if same else None)
    if got.text is None:
        return SyncResult("unchanged", (), (), len(cache.incidents), path)
    page = _parse_bounded(got.text, url, deadline, now)
    new_meta = {"url": shown, "etag": got.etag, "last_modified": got.last_modified}
    new_meta["fetched"] = now.isoformat().replace("+00:00", "Z")
    old = replace(cache, incidents=tuple(map(_clean, cache.incidents)))
    bundled_ids = {i.id for i in inc_mod.bundled()}
    merged = store.merge(old, page.incidents, page.keys, bundled_ids, new_meta)
    if len(merged.cache.incidents) > store.MAX_CACHED:
        raise InputError(
            f"the incident cache would hold more than {store.MAX_CACHED} incidents; "
            "it was left as it was",
            hint="is this the status page? Delete the cache to start over",
        )
    text = dump_cache(merged.cache.incidents, new_meta, dict(merged.cache.headings))
    store.verify(text, merged.cache, path)
    warnings = list(page.warnings)
    try:
        if cache.problem is not None and path.exists():
            aside = store.set_aside(path, now)
            warnings.append(
                f"the incident cache did not parse ({cache.problem}); it was kept as {aside} "
                "(nothing was deleted) and a new cache was started"
            )
        write_atomic(path, text)
    except OSError as exc:
        raise PsgdiagError(
            f"cannot write the incident cache {path}: {exc.strerror or exc}",
            hint="set PSGDIAG_DATA_DIR to a writable folder",
            code=ExitCode.INPUT,
        ) from None
    total = len(merged.cache.incidents)
    return SyncResult("updated", merged.added, merged.updated, total, path, tuple(warnings))
