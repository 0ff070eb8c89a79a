"""Shared fixtures: an isolated cache and data dir, the loaded knowledge base, a case loader."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
DATA = ROOT / "tests" / "data"


def pytest_configure(config: pytest.Config) -> None:
    """Keep the KB snapshot cache and the synced-incident cache out of the user's home.

    Set here, not in a fixture, because test modules load the knowledge base when they are
    imported (collection comes before any fixture). Each process gets its own pair of folders:
    every pytest-xdist worker runs this hook, so workers never share a cache or data dir.
    """
    base = Path(tempfile.mkdtemp(prefix="psgdiag-tests-"))
    config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
    os.environ["PSGDIAG_CACHE_DIR"] = str(base / "cache")
    os.environ["PSGDIAG_DATA_DIR"] = str(base / "data")
    os.environ.pop("PSGDIAG_SIGNATURES", None)
    os.environ.pop("GITHUB_STEP_SUMMARY", None)


@pytest.fixture(scope="session")
def kb():  # type: ignore[no-untyped-def]
    """The bundled knowledge base."""
    from psgdiag import api

    return api.load_kb()


def load_sidecar(log: Path) -> dict[str, object]:
    """Return the JSON sidecar of a sample case."""
    side = log.with_suffix(".json")
    return json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
