"""Load the knowledge base: the bundled signatures plus extra folders, validated all at once.

A validated snapshot is cached (pickle keyed by the files' names, sizes and mtimes) so that a
knowledge base of a thousand files costs about as much to load as a small one. The schema itself
(what a valid signature is) lives in psgdiag.sigschema; its names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from psgdiag import __version__
from psgdiag.errors import KbError
from psgdiag.model import KnowledgeBase, Signature
from psgdiag.record import replace
from psgdiag.sigschema import (
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
from psgdiag.snapshot import cache_key, cache_root, load_pickle, save_pickle

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


_SNAPSHOT_FORMAT = 5


def bundled_dir() -> Path:
    """Return the signatures folder shipped with the package (or the checkout's, when editable)."""
    packaged = Path(str(resources.files("psgdiag"))) / "signatures"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "signatures"


def _files(dirs: Iterable[Path], probs: Problems) -> list[Path]:
    out: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            probs.add(str(d), "is not a folder of signatures")
            continue
        out.extend(sorted(p for p in d.iterdir() if p.suffix == ".toml" and p.is_file()))
    return out


def _cache_file(files: list[Path]) -> Path | None:
    parts = [f"{__version__}:{_SNAPSHOT_FORMAT}\n"]
    folders: dict[Path, Path] = {}  # resolve each folder once, not each of 1,000 files
    for p in files:
        try:
            st = p.stat()
            folder = folders.get(p.parent) or folders.setdefault(p.parent, p.parent.resolve())
        except OSError:
            return None
        parts.append(f"{folder / p.name}:{st.st_size}:{st.st_mtime_ns}\n")
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
    for path in files:
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
        from psgdiag.anchors import regex_requirements

        kb = replace(kb, required=regex_requirements(kb))  # so a run never re-derives them
        save_pickle(cache, kb)
    return kb
