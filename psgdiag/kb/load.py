"""Load the knowledge base: the bundled signatures plus extra folders, validated all at once.

A validated snapshot is cached (pickle keyed by the files' names, sizes and mtimes) so that a
knowledge base of a thousand files costs about as much to load as a small one. The schema itself
(what a valid signature is) lives in psgdiag.sigschema; its names are re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from psgdiag import __version__
from psgdiag.cache import (
    KEEP_KB_SNAPSHOTS,
    cache_key,
    cache_root,
    load_pickle,
    prune,
    save_pickle,
)
from psgdiag.errors import KbError
from psgdiag.kb.schema import (
    CATEGORIES,
    EVIDENCE_KEYS,
    FACT_OPS,
    MATCHER_KEYS,
    MAX_FILE_BYTES,
    MAX_REGEX_CHARS,
    TOP_KEYS,
    Problems,
    compile_regex,
    parse_fact,
    parse_signature,
)
from psgdiag.model import KnowledgeBase, Signature
from psgdiag.record import replace

__all__ = [
    "CATEGORIES",
    "EVIDENCE_KEYS",
    "FACT_OPS",
    "MATCHER_KEYS",
    "MAX_FILE_BYTES",
    "MAX_REGEX_CHARS",
    "TOP_KEYS",
    "Problems",
    "bundled_dir",
    "compile_regex",
    "load",
    "parse_fact",
    "parse_signature",
]


_SNAPSHOT_FORMAT = 15


def bundled_dir() -> Path:
    """Return the signatures folder shipped with the package (or the checkout's, when editable)."""
    packaged = Path(str(resources.files("psgdiag"))) / "signatures"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "signatures"


def _files(dirs: Iterable[Path], probs: Problems) -> list[tuple[Path, str, os.stat_result]]:
    """Each folder's *.toml files by name: (path, resolved path, stat taken while listing)."""
    out: list[tuple[Path, str, os.stat_result]] = []
    for d in dirs:
        if not d.is_dir():
            probs.add(str(d), "is not a folder of signatures")
            continue
        # Names sorted as strings and stat results from the directory scan: with a thousand
        # files, Path objects and separate stat calls cost more than loading the snapshot.
        found: list[tuple[str, os.stat_result]] = []
        try:
            with os.scandir(d) as entries:
                for entry in entries:
                    if entry.name.endswith(".toml") and entry.is_file():
                        found.append((entry.name, entry.stat()))
        except OSError as exc:
            probs.add(str(d), f"cannot read: {exc.strerror}")
            continue
        found.sort(key=lambda item: item[0])
        real = d.resolve()
        out.extend((d / name, os.path.join(real, name), st) for name, st in found)
    return out


def _cache_file(files: list[tuple[Path, str, os.stat_result]]) -> Path:
    parts = [f"{__version__}:{_SNAPSHOT_FORMAT}\n"]
    parts.extend(f"{real}:{st.st_size}:{st.st_mtime_ns}\n" for _p, real, st in files)
    return cache_root() / f"kb-{cache_key(''.join(parts))}.pickle"


def load(extra_dirs: Iterable[Path] = (), *, use_cache: bool = True) -> KnowledgeBase:
    """Load the bundled signatures plus extra folders (same id overrides); raise KbError."""
    probs = Problems()
    dirs = [bundled_dir(), *extra_dirs]
    files = _files(dirs, probs)
    if probs.items:
        raise KbError(probs.items)
    cache = _cache_file(files) if use_cache else None
    if cache is not None and cache.is_file():
        try:
            with cache.open("rb") as fh:
                kb = load_pickle(fh.read())
            if isinstance(kb, KnowledgeBase):
                return kb
        except Exception:  # a damaged cache is simply rebuilt
            pass
    by_id: dict[str, Signature] = {}
    import hashlib  # only when the snapshot is rebuilt
    import tomllib

    digest = hashlib.sha256()
    for path, _real, _st in files:
        where = str(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                probs.add(where, f"larger than {MAX_FILE_BYTES // 1024} KiB; not a signature")
                continue
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            probs.add(where, "is not UTF-8 text")
            continue
        except tomllib.TOMLDecodeError as exc:
            probs.add(where, f"invalid TOML: {exc}")
            continue
        except OSError as exc:
            probs.add(where, f"cannot read: {exc.strerror}")
            continue
        digest.update(raw)
        sig = parse_signature(data, where, path.stem, probs)
        if sig is not None:
            by_id[sig.id] = sig
    if probs.items:
        raise KbError(probs.items)
    kb = KnowledgeBase(
        signatures=tuple(sorted(by_id.values(), key=lambda s: s.id)),
        version=f"{__version__}+{digest.hexdigest()[:12]}",
        sources=tuple(str(d) for d in dirs),
    )
    if cache is not None:
        # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
        from psgdiag.kb.prefilter import phrase_index, regex_requirements
        from psgdiag.kb.snapshot import make_lazy

        # Kept in the snapshot so a run never re-derives them; tuples unpickle faster than sets.
        required = {
            pattern: tuple(tuple(sorted(need)) for need in needs)
            for pattern, needs in regex_requirements(kb).items()
        }
        kb = make_lazy(replace(kb, required=required, phrases=phrase_index(required)))
        save_pickle(cache, kb)
        prune("kb-", KEEP_KB_SNAPSHOTS)
    return kb
