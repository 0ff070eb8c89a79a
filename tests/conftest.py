"""Shared fixtures: an isolated cache and data dir, the loaded knowledge base, a case loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
DATA = ROOT / "tests" / "data"


@pytest.fixture(autouse=True, scope="session")
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the KB snapshot cache and the synced-incident cache out of the user's home."""
    os.environ["PSGDIAG_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["PSGDIAG_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
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
