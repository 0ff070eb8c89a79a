"""Line arithmetic on raw bytes for the big-file scan: the offsets some lines before or after."""

from __future__ import annotations

import re

from psgdiag import regexcode


def back_lines(work: bytes, p: int, lines: int, cap: int) -> int:
    """Return the start of the line `lines` lines above the one holding offset p (capped)."""
    lo = max(0, p - cap)
    i = p
    for _ in range(lines + 1):
        j = work.rfind(b"\n", lo, i)
        if j < 0:
            return lo
        i = j
    return i + 1


_LINES: dict[int, re.Pattern[bytes]] = {}


def forward_lines(work: bytes, p: int, lines: int, cap: int) -> tuple[int, int]:
    """Return (end after `lines` more line ends from p, lines still missing at the block end)."""
    hi = min(len(work), p + cap)
    rx = _LINES.get(lines)
    if rx is None:
        rx = _LINES.setdefault(lines, regexcode.compile(rb"(?:[^\n]*\n){%d}" % lines))
    m = rx.match(work, p, hi)  # the common case in one C call
    if m is not None:
        return m.end(), 0
    i = p
    for k in range(lines):
        j = work.find(b"\n", i, hi)
        if j < 0:
            return (hi, 0) if hi < len(work) else (len(work), lines - k)
        i = j + 1
    return i, 0
