"""Load the knowledge base: the bundled signatures plus extra folders, validated all at once.

A validated snapshot is cached (pickle keyed by the files' names, sizes and mtimes) so that a
knowledge base of a thousand files costs about as much to load as a small one. The schema itself
(what a valid signature is) lives in psgdiag.kb.schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from psgdiag import __version__
from psgdiag.cache import (
    KEEP_KB_SNAPSHOTS,
    SNAPSHOT_FORMAT,
    cache_key,
    cache_root,
    load_pickle,
    prune,
    save_pickle,
)
from psgdiag.errors import KbError
from psgdiag.kb.problems import Problem, Problems, with_lines
from psgdiag.kb.schema import MAX_FILE_BYTES, parse_signature
from psgdiag.model import EvidenceKind, KnowledgeBase, Message, Signature
from psgdiag.record import replace


def bundled_dir() -> Path:
    """Return the signatures folder shipped with the package (or the checkout's, when editable)."""
    packaged = Path(str(resources.files("psgdiag"))) / "signatures"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "signatures"


def _files(dirs: Iterable[Path], probs: list[Problem]) -> list[tuple[Path, str, os.stat_result]]:
    """Each folder's *.toml files by name: (path, resolved path, stat taken while listing)."""
    out: list[tuple[Path, str, os.stat_result]] = []
    for d in dirs:
        if not d.is_dir():
            probs.append(Problem(str(d), "", "is not a folder of signatures"))
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
            probs.append(Problem(str(d), "", f"cannot read: {exc.strerror}"))
            continue
        found.sort(key=lambda item: item[0])
        real = d.resolve()
        out.extend((d / name, os.path.join(real, name), st) for name, st in found)
    return out


def _catalog_files() -> list[tuple[str, os.stat_result]]:
    """The message catalog's data files with their stat (they are part of every snapshot)."""
    root = Path(str(resources.files("psgdiag.data"))) / "messages"
    out: list[tuple[str, os.stat_result]] = []
    for folder in (root, root / "locale"):
        try:
            with os.scandir(folder) as entries:
                out.extend((e.path, e.stat()) for e in entries if e.name.endswith(".toml"))
        except OSError:
            continue  # a zipped install: the version key still changes with psgdiag
    return sorted(out, key=lambda item: item[0])


def _cache_file(files: list[tuple[Path, str, os.stat_result]]) -> Path:
    parts = [f"{__version__}:{SNAPSHOT_FORMAT}\n"]
    parts.extend(f"{real}:{st.st_size}:{st.st_mtime_ns}\n" for _p, real, st in files)
    parts.extend(f"{path}:{st.st_size}:{st.st_mtime_ns}\n" for path, st in _catalog_files())
    return cache_root() / f"kb-{cache_key(''.join(parts))}.pickle"


def read_signature(path: Path) -> tuple[Signature | None, list[Problem], bytes]:
    """Read and validate one signature file: (signature or None, its problems, its bytes).

    The one place a signature file is read: the loader and `signatures check` both use it.
    """
    # Imported here: files are parsed only when the snapshot is rebuilt or checked (start-up time).
    import tomllib

    probs = Problems(str(path))
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            probs.add("", f"larger than {MAX_FILE_BYTES // 1024} KiB; not a signature")
            return None, probs.items, b""
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        probs.add("", "is not UTF-8 text")
        return None, probs.items, b""
    except tomllib.TOMLDecodeError as exc:
        probs.add("", f"invalid TOML: {exc}")
        return None, probs.items, b""
    except OSError as exc:
        probs.add("", f"cannot read: {exc.strerror}")
        return None, probs.items, b""
    sig = parse_signature(data, path.stem, probs)
    if probs:
        from psgdiag.kb.tomlpos import key_lines  # only when there is a problem to place

        return None, with_lines(probs.items, key_lines(text)), raw
    return sig, [], raw


def load(extra_dirs: Iterable[Path] = (), *, use_cache: bool = True) -> KnowledgeBase:
    """Load the bundled signatures plus extra folders (same id overrides); raise KbError."""
    problems: list[Problem] = []
    dirs = [bundled_dir(), *extra_dirs]
    files = _files(dirs, problems)
    if problems:
        raise KbError([str(p) for p in problems])
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
    # Imported here: only when the snapshot is rebuilt (start-up time).
    import hashlib

    digest = hashlib.sha256()
    for path, _real, _st in files:
        sig, found, raw = read_signature(path)
        problems.extend(found)
        digest.update(raw)
        if sig is not None:
            by_id[sig.id] = sig
    for data_file, _st in _catalog_files():
        digest.update(Path(data_file).read_bytes())
    if problems:
        raise KbError([str(p) for p in problems])
    kb = KnowledgeBase(
        signatures=tuple(sorted(by_id.values(), key=lambda s: s.id)),
        version=f"{__version__}+{digest.hexdigest()[:12]}",
        sources=tuple(str(d) for d in dirs),
    )
    kb, problems = with_messages(kb)
    if problems:
        raise KbError([str(p) for p in problems])
    kb = with_requirements(kb)
    if cache is not None:
        # Imported here: only when a snapshot is rebuilt (start-up time).
        from psgdiag.kb.snapshot import make_lazy

        kb = make_lazy(kb)
        save_pickle(cache, kb)
        prune("kb-", KEEP_KB_SNAPSHOTS)
    return kb


def with_requirements(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base with its regexes' required phrases and their index filled in.

    Kept with the knowledge base (and in its snapshot) so a run never re-derives them; tuples
    unpickle faster than sets.
    """
    # Imported here: only when a knowledge base is built from its files (start-up time).
    from psgdiag.kb.prefilter import phrase_index, regex_requirements

    required = {
        pattern: tuple(tuple(sorted(need)) for need in needs)
        for pattern, needs in regex_requirements(kb).items()
    }
    return replace(kb, required=required, phrases=phrase_index(required))


def with_messages(kb: KnowledgeBase) -> tuple[KnowledgeBase, list[Problem]]:
    """The knowledge base with the catalogued messages its signatures name, and their texts.

    A signature naming a message the catalog lacks is a problem (with the nearest id).
    """
    # Imported here: the catalog is read only when a knowledge base is built (start-up time).
    import difflib

    from psgdiag.kb.catalog import compile_texts, load_catalog, shapes
    from psgdiag.kb.describe import describe
    from psgdiag.kb.tomlpos import key_lines
    from psgdiag.kb.truncated import catalog_first_sentences

    catalog = load_catalog()
    named: dict[str, Message] = {}
    problems: list[Problem] = []
    for sig in kb.signatures:
        found: list[Problem] = []
        for i, ev in enumerate(sig.evidence):
            if ev.kind != EvidenceKind.MESSAGE:
                continue
            wordings = catalog.wordings(ev.pattern)
            if wordings:
                named.update((msg.id, msg) for msg in wordings)
                continue
            close = difflib.get_close_matches(ev.pattern, list(catalog.messages), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            why = f"unknown message {ev.pattern!r}{hint}"
            found.append(Problem(sig.source, f"evidence[{i}].message", why))
        if found:
            text = Path(sig.source).read_text("utf-8") if Path(sig.source).is_file() else ""
            problems.extend(with_lines(found, key_lines(text)))
    firsts = catalog_first_sentences()
    texts = tuple(
        t for msg_id in sorted(named) for t in compile_texts(named[msg_id], firsts.get(msg_id))
    )
    described = tuple(
        replace(
            sig, evidence=tuple(replace(ev, describe=describe(ev, named)) for ev in sig.evidence)
        )
        for sig in kb.signatures
    )
    kb = replace(kb, signatures=described)
    return replace(kb, messages=named, texts=texts, shapes=shapes(catalog)), problems
