"""Cached snapshots: parsed data files and validated knowledge bases, pickled next to the user.

Parsing TOML and validating it on every run costs more than the whole diagnosis of a small
paste, so each parsed file is kept as a pickle keyed by what it was made from (the package
version, the file's size and modification time). A damaged or stale snapshot is rebuilt.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from psgdiag import __version__

#: One format number for every cached snapshot (parsed data files, knowledge bases, regex
#: requirements). Pickles name class paths, so bump it whenever a pickled class moves or
#: changes its fields, or a derivation changes what it produces.
SNAPSHOT_FORMAT = 29
KEEP_KB_SNAPSHOTS = 8  # knowledge bases (bundled alone, with extra folders, several versions)
KEEP_DATA_SNAPSHOTS = 24  # parsed data files: a few per psgdiag version


def user_dir(kind: str) -> Path:
    """Return psgdiag's per-user 'cache' or 'data' folder for this platform (as platformdirs).

    Linux and the BSDs follow XDG (an absolute $XDG_CACHE_HOME / $XDG_DATA_HOME, else ~/.cache /
    ~/.local/share); macOS and Windows have their own places. Asked only when PSGDIAG_CACHE_DIR
    or PSGDIAG_DATA_DIR does not name the folder.
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        # The XDG rule platformdirs applies here, without importing it (~4 ms on every run).
        var, default = {
            "cache": ("XDG_CACHE_HOME", ".cache"),
            "data": ("XDG_DATA_HOME", ".local/share"),
        }[kind]
        base = os.environ.get(var, "").strip()
        root = Path(base) if base and os.path.isabs(base) else Path.home() / default
        return root / "psgdiag"
    # Imported here: only macOS and Windows need it, and only when the environment names no folder.
    import platformdirs

    finder = platformdirs.user_cache_dir if kind == "cache" else platformdirs.user_data_dir
    return Path(finder("psgdiag"))


def cache_root() -> Path:
    """Return the folder for cached snapshots (PSGDIAG_CACHE_DIR, else the user cache dir)."""
    root = os.environ.get("PSGDIAG_CACHE_DIR")
    return Path(root) if root is not None else user_dir("cache")


def cache_key(text: str) -> str:
    """A short stable digest for cache file names (zlib: no OpenSSL start-up on every run)."""
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"


def load_pickle(data: bytes) -> Any:
    """Unpickle a snapshot with the cyclic GC paused (it rescans every new object: ~25% faster)."""
    import _pickle  # the C unpickler pickle.py re-exports, without pickle.py's own import cost
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _pickle.loads(data)
    finally:
        if was_enabled:
            gc.enable()


def prune(prefix: str, keep: int) -> None:
    """Delete all but the `keep` newest `<prefix>*.pickle` snapshots of the cache folder.

    Every signature edit or psgdiag upgrade writes a new snapshot under a new key; without this
    the cache would grow by megabytes each time. Runs only after a snapshot was rebuilt.
    """
    try:
        found = sorted(
            cache_root().glob(f"{prefix}*.pickle"),
            key=lambda p: p.stat().st_mtime_ns,
            reverse=True,
        )
        for old in found[keep:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or shared cache: leave it as it is


def save_pickle(path: Path, obj: Any) -> None:
    """Write a snapshot atomically (temp file + rename); a read-only cache is simply skipped."""
    import pickle

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass


@lru_cache(maxsize=16)
def data_toml(
    name: str, prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return a parsed TOML file of psgdiag/data, from its snapshot when it is current.

    `prepare` adds data derived from the parsed file; the result is what the snapshot keeps, so
    the derivation runs only when the file (or psgdiag) changes.
    """
    res = resources.files("psgdiag.data").joinpath(name)
    step = f"{prepare.__module__}.{prepare.__qualname__}" if prepare is not None else ""
    try:
        st = os.stat(str(res))
        key = f"{__version__}:{SNAPSHOT_FORMAT}:{name}:{step}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:  # not a plain file (zipped install): parse it every time
        parsed = _parse(res.read_text("utf-8"))
        return prepare(parsed) if prepare is not None else parsed
    path = cache_root() / f"data-{cache_key(key)}.pickle"
    try:
        loaded = load_pickle(path.read_bytes())
        if isinstance(loaded, dict):
            return loaded
    except Exception:  # missing or damaged snapshot: rebuild it
        pass
    parsed = _parse(res.read_text("utf-8"))
    if prepare is not None:
        parsed = prepare(parsed)
    save_pickle(path, parsed)
    prune("data-", KEEP_DATA_SNAPSHOTS)
    return parsed


def _parse(text: str) -> dict[str, Any]:
    import tomllib  # only when a snapshot is rebuilt

    return tomllib.loads(text)
