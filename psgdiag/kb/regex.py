"""One RE2 compile path and one compile cache for every signature, fact and catalog regex.

RE2 runs in linear time, so no pattern from a signature file can backtrack catastrophically on a
hostile log. Patterns are compiled case-insensitively and kept for the run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

MAX_REGEX_CHARS = 4000
MAX_PROGRAM_SIZE = 3000  # RE2 program size: a bound on memory and per-character work


def compile_regex(pattern: str | bytes) -> Any:
    """Compile a pattern with RE2 (raises re2.error when RE2 rejects it).

    A bytes pattern searches UTF-8 bytes: on large texts that avoids re-encoding the whole
    string on every search, which the RE2 binding does for str input.
    """
    return _re2_compiler()(pattern)


@lru_cache(maxsize=8192)
def cached_regex(pattern: str) -> Any:
    """compile_regex for searching UTF-8 bytes, kept for the run."""
    return compile_regex(pattern.encode("utf-8"))


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
