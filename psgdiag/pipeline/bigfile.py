"""Huge inputs: find candidate regions on raw bytes; decode and normalise only those regions.

An input larger than ingest.FULL_READ_LIMIT is read in chunks (bounded memory). One RE2 pattern
of literal anchors derived from the knowledge base (psgdiag.pipeline.anchors), plus general ones
(FullyQualifiedErrorId, exception, error, status codes ...), runs case-insensitively over the
bytes. Around each hit the lines before and after are kept, and so are the first lines (the
transcript header) and the last lines (where a CI log ends with its failure). Lines are counted
on the bytes, so every kept line keeps its original number. UTF-16 is transcoded per chunk.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

from psgdiag.model import Document, KnowledgeBase
from psgdiag.pipeline.anchors import anchor_regexes
from psgdiag.pipeline.bytestream import read_chunks, utf8_chunks
from psgdiag.pipeline.ingest import RawText, detect_encoding
from psgdiag.pipeline.linewalk import back_lines, forward_lines
from psgdiag.pipeline.normalize import normalize
from psgdiag.record import field, record

if TYPE_CHECKING:  # the pool itself is made only for a big input (start-up time)
    from concurrent.futures import Executor

GENERAL, SPECIFIC, PINNED = 0, 1, 2
PARALLEL_BYTES = 1024 * 1024  # a shorter stretch is searched on one thread


@record
class Limits:
    """How much is read at once and how much context is kept around each candidate."""

    chunk: int = 4 * 1024 * 1024
    before: int = 30  # lines kept before a hit (an error record starts above its FQID line)
    after: int = 30  # lines kept after a hit (wrapped record fields, stack lines)
    head: int = 200  # first lines, always kept: transcript header, first CI timestamps
    tail: int = 200  # last lines, always kept: a CI log usually ends with its failure
    side_bytes: int = 64 * 1024  # context cap per side, so one giant line cannot be kept whole
    edge_bytes: int = 256 * 1024  # cap for the head and the tail
    budget: int = 512 * 1024  # most bytes kept in regions; general hits are dropped first
    region_bytes: int = 256 * 1024  # a region that grows past this is closed (made evictable)


@record(frozen=False)
class _Region:
    start: int  # offset in the (CR-normalised, UTF-8) byte stream
    end: int
    line: int  # original line number at `start`
    tier: int
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    open_lines: int = 0  # lines still wanted after `end`
    closed: bool = False
    evicted: bool = False


class _Scanner:
    """Feeds blocks of complete lines through the anchor pattern and collects regions."""

    def __init__(self, kb: KnowledgeBase, lim: Limits, pool: Executor | None = None) -> None:
        self.both, self.specific = anchor_regexes(kb)
        self.lim = lim
        self.pool = pool  # a second thread searches the far half of a long stretch (see _next)
        self.regions: list[_Region] = [_Region(0, 0, 1, PINNED, open_lines=lim.head)]
        self.queues: tuple[deque[_Region], deque[_Region]] = (deque(), deque())
        self.kept = 0
        self.off = 0  # stream offset of the next block
        self.line = 1  # line number at self.off
        self.tail = b""  # the last lines read: context for the next block, and the log's tail
        self.tail_line = 1
        self.pending = b""
        self.specific_seen = False

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk; process every complete line, keep the partial last one.

        Each block is copied once: the tail kept from the last block, the partial line left
        over and this chunk's complete lines are joined into the buffer the search runs on.
        """
        nl = chunk.rfind(b"\n")
        cut = max(nl, chunk.rfind(b"\r", nl + 1, len(chunk) - 1)) + 1  # a last CR may be CRLF
        if cut == 0:
            buf = self.pending + chunk
            if len(buf) < self.lim.side_bytes:
                self.pending = buf
                return
            cut = len(buf) - 1 if buf.endswith(b"\r") else len(buf)  # a giant line: cut it
            self.pending = buf[cut:]
            self._block(b"".join((self.tail, memoryview(buf)[:cut])))
            return
        work = b"".join((self.tail, self.pending, memoryview(chunk)[:cut]))
        self.pending = chunk[cut:]
        self._block(work)

    def finish(self) -> list[_Region]:
        """Process what is left and add the tail; return the kept regions in order."""
        if self.pending:
            self._block(self.tail + self.pending)
            self.pending = b""
        tail_start = self.off - len(self.tail)
        out: list[_Region] = []
        for r in self.regions:
            if r.evicted or r.end <= r.start or r.start >= tail_start:
                continue
            if r.end > tail_start:
                data = b"".join(r.parts)[: tail_start - r.start]
                r.parts, r.end = [data], tail_start
            out.append(r)
        if self.tail:
            out.append(_Region(tail_start, self.off, self.tail_line, PINNED, [self.tail]))
        return out

    def _block(self, work: bytes) -> None:
        """Search one buffer: the tail kept from the last block, then the new lines."""
        start = len(self.tail)
        if work.find(b"\r", start) >= 0:  # CRLF and lone CR end lines too (as split_lines says)
            work = work.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lim = self.lim
        base = self.off - start
        size = len(work) - start
        last = self.regions[-1]
        if last.open_lines and not last.closed and last.end == self.off:
            cap = lim.edge_bytes if last.tier == PINNED else lim.side_bytes
            end, left = forward_lines(work, start, last.open_lines, cap)
            self._extend(last, work, base, end, left)
        if last is self.regions[0] and not last.open_lines:
            self._close(last)  # the head is complete: later hits start regions of their own
        self._search(work, base, start)
        self.off += size
        self.line += work.count(b"\n", start)
        keep = back_lines(work, len(work), max(lim.before, lim.tail), lim.edge_bytes)
        self.tail = work[keep:]
        self.tail_line = self.line - self.tail.count(b"\n")

    def _search(self, work: bytes, base: int, start: int) -> None:
        lim = self.lim
        cursor, cursor_line = 0, self.tail_line
        pos = max(0, start - 64)  # an anchor cut by a forced split of a giant line
        while pos < len(work):
            m = self._next(work, pos)
            if m is None:
                return
            p = m.start()
            line_end = work.find(b"\n", p)
            pos = len(work) if line_end < 0 else line_end + 1
            if m.end() <= start:
                continue
            tier = SPECIFIC if m.group(1) is not None else GENERAL
            if tier == GENERAL and self.specific.search(work, p + 1, pos) is not None:
                tier = SPECIFIC
            last = self.regions[-1]
            if not last.closed and last.end >= base + p:
                have = work.count(b"\n", p, last.end - base)
                if have < lim.after + 1:
                    more = lim.after + 1 - have
                    end, left = forward_lines(work, last.end - base, more, lim.side_bytes)
                    self._extend(last, work, base, end, left)
                last.tier = max(last.tier, tier)
            else:
                s = max(back_lines(work, p, lim.before, lim.side_bytes), last.end - base)
                if s < cursor:
                    cursor_line -= work.count(b"\n", s, cursor)
                else:
                    cursor_line += work.count(b"\n", cursor, s)
                cursor = s
                end, left = forward_lines(work, p, lim.after + 1, lim.side_bytes)
                self._close(last)
                last = _Region(base + s, base + s, cursor_line, tier)
                self.regions.append(last)
                self._extend(last, work, base, end, left)
            pos = self._absorb(last, work, base, pos)

    def _next(self, work: bytes, pos: int) -> Any:
        """The first anchor hit at or after pos; a long stretch is searched in two halves at once.

        RE2 releases the GIL, so the far half runs on the pool's thread while this one searches
        the near half (past the middle by `side_bytes`, so a hit spanning it is still found whole).
        """
        rest = len(work) - pos
        if self.pool is None or rest < PARALLEL_BYTES:
            return self.both.search(work, pos)
        mid = work.find(b"\n", pos + rest // 2) + 1 or len(work)
        far = self.pool.submit(self.both.search, work, mid)
        near = self.both.search(work, pos, min(len(work), mid + self.lim.side_bytes))
        if near is not None:
            far.cancel()
            return near
        return far.result()

    def _absorb(self, r: _Region, work: bytes, base: int, pos: int) -> int:
        """Take further hits inside region r with one search per window; return where to go on.

        A hit before the region's end needs at most `after` lines past that end, so dense hits
        ("error" on every other line) cost one C call per window, not one Python loop per line.
        """
        while not r.closed and pos < r.end - base:
            end_here = r.end - base
            m = self.both.search(work, pos, end_here)
            if m is None:
                return end_here
            if r.tier < SPECIFIC and (
                m.group(1) is not None or self.specific.search(work, m.start(), end_here)
            ):
                r.tier = SPECIFIC
            pos = end_here
            if r.open_lines:
                break
            # Dense hits grow the window geometrically: few windows per region, whatever the
            # density (at most half the region again past the last hit; capped by region_bytes).
            end, left = forward_lines(work, end_here, self.lim.after, self.lim.side_bytes)
            if not left and end - end_here < r.size // 2:
                grow = work.find(b"\n", end_here + r.size // 2)
                end = len(work) if grow < 0 else grow + 1
            self._extend(r, work, base, end, left)
            if end <= end_here:
                break
        return max(pos, r.end - base) if not r.closed else pos

    def _extend(self, r: _Region, work: bytes, base: int, end: int, left: int) -> None:
        if base + end > r.end:
            piece = work[r.end - base : end]
            r.parts.append(piece)
            r.size += len(piece)
            self.kept += len(piece)
            r.end = base + end
            r.open_lines = left
        if r.size > self.lim.region_bytes:
            self._close(r)
        self._evict()

    def _close(self, r: _Region) -> None:
        if r.closed:
            return
        r.closed = True
        if r.tier == SPECIFIC and not self.specific_seen:
            r.tier = PINNED  # the first specific hit is often the root cause: never dropped
            self.specific_seen = True
        if r.tier != PINNED:
            self.queues[r.tier].append(r)

    def _evict(self) -> None:
        while self.kept > self.lim.budget:
            queue = self.queues[GENERAL] or self.queues[SPECIFIC]
            if not queue:
                return
            r = queue.popleft()
            r.evicted = True
            self.kept -= r.size
            r.parts, r.size = [], 0


@contextmanager
def _search_pool() -> Iterator[Executor | None]:
    """One helper thread for the anchor search while a big input is scanned (none on one core)."""
    if (os.cpu_count() or 1) < 2:
        yield None
        return
    # Imported here: only a big input is scanned (start-up time).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="psgdiag-scan") as pool:
        yield pool


def scan_stream(
    stream: BinaryIO, name: str, kb: KnowledgeBase, limits: Limits | None = None
) -> Document:
    """Scan a large input in chunks; return a Document of the candidate regions only."""
    lim = limits or Limits()
    chunks = read_chunks(stream, name, lim.chunk)
    first = next(chunks, b"")
    while len(first) < 4096:  # a pipe may deliver less than asked: detect on a full head
        more = next(chunks, b"")
        if not more:
            break
        first += more
    enc = detect_encoding(first[:4096])
    with _search_pool() as pool:
        scanner = _Scanner(kb, lim, pool)
        for data in utf8_chunks(first, chunks, enc):
            if data:
                scanner.feed(data)
    texts: list[str] = []
    numbers: list[int] = []
    for region in scanner.finish():
        text = b"".join(region.parts).decode("utf-8", "replace")
        if "\x00" in text:
            text = text.replace("\x00", "")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        texts.extend(lines)
        numbers.extend(range(region.line, region.line + len(lines)))
    text = "\n".join(texts) + "\n" if texts else ""  # split_lines drops only this last end
    return normalize(RawText(text=text, encoding=enc, source=name), numbers)
