"""Every labelled sample under tests/cases/<cause-id>/ gets its cause; near misses get none."""

from __future__ import annotations

from pathlib import Path

import pytest

from psgdiag import api
from psgdiag.pipeline.when import parse_at
from tests.conftest import CASES, load_sidecar

LOGS = sorted(CASES.glob("*/*.log"))


def _id(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


@pytest.mark.parametrize("log", LOGS, ids=[_id(p) for p in LOGS])
def test_case(log: Path, kb) -> None:  # type: ignore[no-untyped-def]
    meta = load_sidecar(log)
    expect = list(meta.get("expect") or [log.parent.name])  # type: ignore[call-overload]
    at = meta.get("at")
    report = api.diagnose_bytes(
        log.read_bytes(), kb=kb, at=parse_at(str(at)) if at else None, source=str(log)
    )
    causes = [d.signature.id for d in report.diagnoses]
    if expect == ["none"]:
        assert causes == [], f"near miss diagnosed as {causes}"
        return
    assert causes, "no diagnosis"
    assert causes[0] in expect, f"got {causes[:3]}, expected {expect}"
    if log.parent.name != "none":
        assert log.parent.name in expect, "the folder names the labelled cause"
    if "incident" in meta:
        got = report.diagnoses[0].incident
        assert (got.id if got else None) == meta["incident"]


def test_every_case_has_a_sidecar_with_a_source() -> None:
    missing = [_id(p) for p in LOGS if not str(load_sidecar(p).get("source", "")).strip()]
    assert not missing, f"cases without a source: {missing}"
