"""One RE2 compile path and one compile cache for every signature, fact and catalog regex.

RE2 runs in linear time, so no pattern from a signature file can backtrack catastrophically on a
hostile log. Patterns are compiled case-insensitively and kept for the run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from psgdiag import regexcode

MAX_REGEX_CHARS = 4000
MAX_PROGRAM_SIZE = 3000  # RE2 program size: a bound on memory and per-character work
_BOUNDED = regexcode.compile(rb"\{(\d+),(\d+)\}")


def compile_regex(pattern: str | bytes) -> Any:
    """Compile a pattern with RE2 (raises re2.error when RE2 rejects it).

    A bytes pattern searches UTF-8 bytes: on large texts that avoids re-encoding the whole
    string on every search, which the RE2 binding does for str input.
    """
    return _re2_compiler()(pattern)


@lru_cache(maxsize=8192)
def cached_regex(pattern: str) -> Any:
    """compile_regex for searching UTF-8 bytes, kept for the run.

    A pattern with a wide bounded repeat (`[^.]{0,100}`) is searched through a wider pattern
    first (see `widened`): compiling the exact one costs a copy of the repeated item per count,
    and most patterns of a run never match at all.
    """
    raw = pattern.encode("utf-8")
    wide = widened(raw)
    return compile_regex(raw) if wide is None else _Widened(wide, raw)


WIDEN_SPAN = 8  # a bounded repeat {m,n} with n - m above this is widened to {m,}


def widened(pattern: bytes) -> bytes | None:
    """The pattern with its wide bounded repeats made open ({0,100} -> {0,}), or None.

    Every text the pattern matches, the widened one matches too, so a text the widened pattern
    does not match is not matched by the pattern. Braces inside a character class or after a
    backslash are left alone; a pattern using \\Q...\\E quoting is never widened.
    """
    if b"\\Q" in pattern:
        return None
    out = bytearray()
    i, n, changed = 0, len(pattern), False
    while i < n:
        c = pattern[i : i + 1]
        if c == b"\\":
            out += pattern[i : i + 2]
            i += 2
        elif c == b"[":
            end = _class_end(pattern, i)
            out += pattern[i:end]
            i = end
        elif c == b"{" and (m := _BOUNDED.match(pattern, i)):
            low, high = int(m.group(1)), int(m.group(2))
            if high - low > WIDEN_SPAN:
                out += b"{%d,}" % low
                changed = True
            else:
                out += m.group(0)
            i = m.end()
        else:
            out += c
            i += 1
    return bytes(out) if changed else None


def _class_end(pattern: bytes, start: int) -> int:
    """Index just past the character class opening at `start` (RE2 / POSIX rules)."""
    i = start + 1
    if pattern[i : i + 1] == b"^":
        i += 1
    if pattern[i : i + 1] == b"]":  # a leading ] is a member
        i += 1
    while i < len(pattern):
        c = pattern[i : i + 1]
        if c == b"\\":
            i += 2
        elif pattern.startswith(b"[:", i) and (close := pattern.find(b":]", i + 2)) != -1:
            i = close + 2
        elif c == b"]":
            return i + 1
        else:
            i += 1
    return len(pattern)


class _Widened:
    """An exact RE2 pattern behind its widened one, compiled only once the widened one matches."""

    __slots__ = ("_exact", "_pattern", "_wide")

    def __init__(self, wide: bytes, pattern: bytes) -> None:
        self._wide = compile_regex(wide)
        self._pattern = pattern
        self._exact: Any = None

    def _compiled(self) -> Any:
        if self._exact is None:
            self._exact = compile_regex(self._pattern)
        return self._exact

    def search(self, data: bytes, *args: Any) -> Any:
        if self._wide.search(data, *args) is None:
            return None
        return self._compiled().search(data, *args)

    def finditer(self, data: bytes, *args: Any) -> Any:
        if self._wide.search(data, *args) is None:
            return iter(())
        return self._compiled().finditer(data, *args)


def regex_problem(pattern: str) -> str:
    """Why a signature regex cannot be loaded ("" when it can): length or an RE2 error."""
    if len(pattern) > MAX_REGEX_CHARS:
        return f"longer than {MAX_REGEX_CHARS} characters"
    try:
        compile_regex(pattern)
    except Exception as exc:  # re2.error has no stable public type
        return f"does not compile under RE2: {exc}"
    return ""


def program_size(pattern: str) -> int:
    """RE2's program size of a pattern that compiles."""
    return int(compile_regex(pattern).programsize)


@lru_cache(maxsize=1)
def _re2_compiler() -> Callable[[str | bytes], Any]:
    """One RE2 options object for every pattern, and the binding's pattern class when present.

    re2.compile rebuilds its Options object attribute by attribute on every call, which costs
    more than compiling a typical signature regex; constructing the pattern class directly with
    a shared Options skips that (same object, same errors: re2.error).
    """
    import re2

    opts = re2.Options()
    opts.log_errors = False
    opts.case_sensitive = False
    regexp = getattr(re2, "_Regexp", None)
    if callable(regexp):
        return lambda pattern: regexp(pattern, opts)
    return lambda pattern: re2.compile(pattern, opts)
