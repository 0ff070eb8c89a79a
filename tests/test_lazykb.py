"""psgdiag.kb.snapshot: gated, lazily unpickled signatures give exactly the reports of a plain KB."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from psgdiag import api
from psgdiag.kb import load as kb_mod
from psgdiag.kb.snapshot import LazySignatures, gate_of, make_lazy
from psgdiag.model import KnowledgeBase
from psgdiag.render.json_ import report_dict
from tests.conftest import CASES

LOGS = sorted(CASES.rglob("*.log")) + sorted((CASES.parent / "known_gaps").glob("*.log"))


@pytest.fixture(scope="module")
def plain() -> KnowledgeBase:
    kb = kb_mod.load(use_cache=False)
    assert isinstance(kb.signatures, tuple) and not kb.gates and kb.required
    return kb


@pytest.fixture(scope="module")
def lazy(plain: KnowledgeBase) -> KnowledgeBase:
    return make_lazy(plain)


def test_every_sample_case_gets_the_same_report_from_the_gated_kb(
    plain: KnowledgeBase, lazy: KnowledgeBase
) -> None:
    skipped = 0
    for log in LOGS:
        data = log.read_bytes()
        fresh = make_lazy(plain)  # nothing unpickled yet
        want = report_dict(api.diagnose_bytes(data, kb=plain, source=log.name))
        got = report_dict(api.diagnose_bytes(data, kb=fresh, source=log.name))
        assert got == want, log.name
        assert isinstance(fresh.signatures, LazySignatures)
        skipped += sum(1 for s in fresh.signatures._loaded if s is None)
    # the gates do their job: about 40% of the signatures are never unpickled for a real case
    # (failure logs share many weak clues); on a paste that a large KB mostly does not concern,
    # nearly all are skipped (benchmarks/bench.py, 1,000 synthetic signatures)
    assert skipped > len(LOGS) * len(plain.signatures) // 4


def test_the_cached_snapshot_is_gated_and_equal_to_the_plain_kb(
    plain: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PSGDIAG_CACHE_DIR", str(tmp_path))
    built = kb_mod.load()  # builds and saves the snapshot
    loaded = kb_mod.load()  # reads it back
    for kb in (built, loaded):
        assert isinstance(kb.signatures, LazySignatures)
        assert [g.sig_id for g in kb.gates] == [s.id for s in plain.signatures]
        assert tuple(kb.signatures) == plain.signatures
    assert any(tmp_path.glob("kb-*.pickle"))


def test_lazy_signatures_behave_as_a_sequence(plain: KnowledgeBase) -> None:
    sigs = LazySignatures.of(plain.signatures)
    assert len(sigs) == len(plain.signatures)
    assert sigs[0] == plain.signatures[0] and sigs[-1] == plain.signatures[-1]
    assert sigs[0] is sigs[0]  # unpickled once, then kept
    assert tuple(sigs[1:3]) == plain.signatures[1:3]
    assert list(sigs) == list(plain.signatures)
    assert sigs == plain.signatures and sigs != plain.signatures[:-1]
    back = pickle.loads(pickle.dumps(sigs))
    assert isinstance(back, LazySignatures) and tuple(back) == plain.signatures
    with pytest.raises(IndexError):
        sigs[len(sigs)]
    assert repr(sigs) == f"LazySignatures({len(sigs)} signatures)"


def test_gates_record_what_each_evidence_kind_needs(plain: KnowledgeBase) -> None:
    for sig in plain.signatures:
        gate = gate_of(sig)
        assert gate.sig_id == sig.id
        regexes = [e.pattern for e in sig.evidence if e.kind == "regex"]
        assert list(gate.regexes) == regexes
        if any(e.kind == "http_status" for e in sig.evidence):
            assert gate.statuses
        if any(e.kind == "incident" for e in sig.evidence):
            assert gate.has_incident is True


def test_record_shapes_are_unpickled_only_when_a_record_needs_them() -> None:
    from psgdiag import api
    from psgdiag.kb.snapshot import LazyShapes
    from psgdiag.record import replace

    loaded = api.load_kb()
    assert isinstance(loaded.shapes, LazyShapes)
    # a fresh container: another test of this process may have unpickled the shared one
    kb = replace(loaded, shapes=LazyShapes(loaded.shapes._blob))
    assert kb.shapes
    api.diagnose_text(
        "PackageManagement\\Install-Package : No match was found for the specified search criteria"
        " and module name 'Foo'. Try Get-PSRepository to see all available registered module"
        " repositories.\n",
        kb=kb,
    )
    assert kb.shapes._loaded is None  # the record's text was recognised: no shape was needed
    assert len(kb.shapes) > 100 and kb.shapes._loaded is not None
