"""Python `re` patterns whose compiled program is kept between runs.

`re.compile` parses a pattern and turns it into a list of opcodes before handing that list to
the `_sre` engine. For the hundred-odd patterns psgdiag's pipeline builds at import and on a
first diagnosis, that work costs ~15 ms on every start: more than reading a small paste. The
opcode list depends only on the pattern, its flags and the interpreter's `re` engine, so it is
kept in one marshal file per interpreter in the cache folder, and a later run hands the stored
list straight to `_sre.compile`, which checks it before use.

Any surprise (another interpreter layout, a missing private function, a damaged or foreign
file, an opcode list `_sre` rejects) falls back to `re.compile`, which is always right; the
stored list is only ever a faster route to the same Pattern. Patterns built from what the user
gave (redaction of their own names) go through `re.compile` directly and are never stored.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import Any, overload

from psgdiag.cache import cache_key, cache_root

#: Stored programs per file, at most: the pipeline's fixed patterns plus the catalog's
#: identity patterns fit well below it; beyond it new patterns are compiled but not kept.
MAX_STORED = 4000

_Key = tuple[str | bytes, int]
_stored: dict[_Key, tuple[Any, ...]] | None = None
_added: dict[_Key, tuple[Any, ...]] = {}
_live: dict[_Key, re.Pattern[Any]] = {}  # built this run (as `re` keeps its own compiled patterns)


@overload
def compile(pattern: str, flags: int = 0) -> re.Pattern[str]: ...
@overload
def compile(pattern: bytes, flags: int = 0) -> re.Pattern[bytes]: ...
def compile(pattern: str | bytes, flags: int = 0) -> re.Pattern[Any]:
    """`re.compile(pattern, flags)`, from the stored program when this interpreter has one."""
    key = (pattern, int(flags))
    live = _live.get(key)
    if live is not None:
        return live
    compiled = _build(key)
    if len(_live) < MAX_STORED:
        _live[key] = compiled
    return compiled


def _build(key: _Key) -> re.Pattern[Any]:
    """The pattern from its stored program, else compiled by `re` (and its program kept)."""
    pattern, flags = key
    stored = _store()
    entry = stored.get(key)
    if entry is not None:
        try:
            return _from_program(pattern, entry)
        except Exception:  # a program _sre rejects: compile it afresh below
            stored.pop(key, None)
    compiled = re.compile(pattern, flags)
    if len(stored) + len(_added) < MAX_STORED:
        program = _program(pattern, flags, compiled)
        if program is not None:
            if not _added:
                import atexit

                atexit.register(save)
            _added[key] = program
    return compiled


def _from_program(pattern: str | bytes, entry: tuple[Any, ...]) -> re.Pattern[Any]:
    import _sre  # type: ignore[import-not-found]

    flags, code, groups, groupindex, indexgroup = entry
    result: re.Pattern[Any] = _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)
    return result


def _program(pattern: str | bytes, flags: int, compiled: re.Pattern[Any]) -> tuple[Any, ...] | None:
    """The arguments `re` gave `_sre.compile` for this pattern, or None when they cannot be had.

    Rebuilt with `re`'s own parser and code generator, then checked against the Pattern
    `re.compile` returned; a mismatch (a future `re` that works differently) keeps nothing.
    """
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
        code = [int(op) for op in _compiler._code(parsed, flags)]  # opcodes are int subclasses
        state = parsed.state
        groupindex = dict(state.groupdict)
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        entry = (int(flags | state.flags), code, state.groups - 1, groupindex, tuple(indexgroup))
        rebuilt = _from_program(pattern, entry)
    except Exception:
        return None
    same = (
        rebuilt.flags == compiled.flags
        and rebuilt.groups == compiled.groups
        and dict(rebuilt.groupindex) == dict(compiled.groupindex)
    )
    return entry if same else None


def _store() -> dict[_Key, tuple[Any, ...]]:
    global _stored
    if _stored is None:
        _stored = {}
        try:
            import marshal

            with open(_path(), "rb") as fh:
                loaded = marshal.loads(fh.read())
            if isinstance(loaded, dict):
                _stored = loaded
        except Exception:  # none yet, unreadable or damaged: start empty
            pass
    return _stored


def _path() -> str:
    import _sre

    engine = f"{sys.implementation.cache_tag}:{sys.version}:{_sre.MAGIC}:{_sre.CODESIZE}"
    return str(cache_root() / f"regex-{cache_key(engine)}.marshal")


def save() -> None:
    """Write the stored programs and this run's new ones (atomically; a read-only cache is left)."""
    if not _added:
        return
    import marshal

    merged = {**_store(), **_added}
    path = _path()
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(marshal.dumps(merged))
        os.replace(tmp, path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return
    _store().update(_added)
    _added.clear()
