"""The one library entry point: bytes or text in, Report out. Used by the CLI and the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from psgdiag.incidents import history as inc_mod
from psgdiag.kb import load as kb_mod
from psgdiag.kb.prefilter import regex_requirements
from psgdiag.model import (
    Diagnosis,
    Document,
    Fault,
    Incident,
    KnowledgeBase,
    Report,
    Signature,
    Status,
    TimeRange,
)
from psgdiag.pipeline.extract import extract_facts
from psgdiag.pipeline.ingest import FULL_READ_LIMIT, RawText, decode, read_all
from psgdiag.pipeline.match import Matcher
from psgdiag.pipeline.normalize import detect_locales, normalize
from psgdiag.pipeline.recognise import recognise
from psgdiag.pipeline.score import evaluate, rank
from psgdiag.pipeline.textview import TextIndex
from psgdiag.record import replace


def load_kb(extra_dirs: Sequence[Path] = ()) -> KnowledgeBase:
    """Load the bundled signatures plus extra folders."""
    return kb_mod.load(extra_dirs)


def verdict_of(diagnoses: Sequence[Diagnosis]) -> str:
    """Return 'none', 'fix' or 'retry' for the best diagnosis."""
    if not diagnoses:
        return "none"
    top = diagnoses[0]
    return "retry" if top.transient or top.fault == Fault.SERVICE else "fix"


def diagnose_document(
    doc: Document,
    *,
    kb: KnowledgeBase,
    at: TimeRange | None = None,
    incidents: Sequence[Incident] | None = None,
    sent: dt.datetime | None = None,
) -> Report:
    """Diagnose a normalised document (`sent`: when it was sent, e.g. an e-mail's Date)."""
    facts = extract_facts(doc, sent)
    if at is not None:
        facts = replace(facts, time=at)
    if facts.time is None:
        # No written time: date the paste by the clients and platforms it names.
        # Imported here: only a paste without a written time needs it (start-up time).
        from psgdiag.pipeline.era import era_of
        from psgdiag.pipeline.whenweekday import weekday_time

        era = era_of(facts)
        # "Thursday 1 September": a weekday picks the year when the era leaves only one.
        facts = replace(facts, era=era, time=weekday_time(doc, era) if era is not None else None)
    history = tuple(incidents) if incidents is not None else inc_mod.load_all()
    history = inc_mod.applicable(history, (line.text for line in doc.lines))
    locales = detect_locales(doc)
    index = TextIndex.build(doc)
    said = recognise(index, facts, kb.messages, kb.texts, kb.shapes) if kb.messages else ()
    matcher = Matcher(
        index,
        facts,
        locales,
        incident_for=lambda cause: inc_mod.correlate(history, cause, facts.time),
        required=regex_requirements(kb),
        phrases=kb.phrases or None,
        said=said,
    )
    record_lines = frozenset(r.line for r in facts.records)
    candidates = []
    sigs: Iterable[Signature] = kb.signatures
    if kb.gates and len(kb.gates) == len(kb.signatures):
        # Only signatures that can have a hit are unpickled and matched (psgdiag.lazykb).
        sigs = (kb.signatures[i] for i, gate in enumerate(kb.gates) if matcher.may_hit(gate))
    for sig in sigs:
        if sig.status == Status.DEPRECATED:
            continue
        hits = matcher.signature(sig)
        if hits:
            candidates.append(evaluate(sig, hits, record_lines))
    diagnoses, whynot = rank(candidates, facts, history)
    notes: list[str] = []
    foreign = facts.first("out_of_scope")
    if foreign and diagnoses and "client" not in facts.values:
        # Another tool's output (a data-driven fact): its look-alike texts are not our causes.
        notes.append(f"this looks like output of {foreign}, which psgdiag does not diagnose")
        diagnoses = ()
    if not diagnoses and locales:
        notes.append(
            "localised PowerShell output detected ("
            + ", ".join(locales)
            + "): no known cause matched; the translated text may not be covered yet"
        )
    return Report(
        diagnoses=diagnoses,
        runners_up=whynot,
        facts=facts,
        document=doc,
        kb_version=kb.version,
        verdict=verdict_of(diagnoses),
        notes=tuple(notes),
        said=said,
    )


def diagnose_text(
    text: str,
    *,
    kb: KnowledgeBase | None = None,
    at: TimeRange | None = None,
    incidents: Sequence[Incident] | None = None,
    source: str = "<text>",
) -> Report:
    """Diagnose already-decoded text."""
    doc = normalize(RawText(text=text, encoding="text", source=source))
    return diagnose_document(doc, kb=kb or load_kb(), at=at, incidents=incidents)


def diagnose_bytes(
    data: bytes,
    *,
    kb: KnowledgeBase | None = None,
    at: TimeRange | None = None,
    incidents: Sequence[Incident] | None = None,
    source: str = "<bytes>",
) -> Report:
    """Diagnose raw bytes as a user would pipe them (any supported encoding)."""
    doc = normalize(decode(data, source))
    return diagnose_document(doc, kb=kb or load_kb(), at=at, incidents=incidents)


def read_document(stream: BinaryIO, name: str, size: int | None, kb: KnowledgeBase) -> Document:
    """Read a stream into a Document; large inputs are scanned on raw bytes (psgdiag.scan)."""
    if size is not None and size > FULL_READ_LIMIT:
        # Imported here: only huge inputs need the chunked scanner (start-up time).
        from psgdiag.pipeline.bigfile import scan_stream

        return scan_stream(stream, name, kb)
    data = read_all(stream, name, FULL_READ_LIMIT + 1)
    if len(data) > FULL_READ_LIMIT:  # a big pipe: scan it without reading it whole first
        # Imported here: only huge inputs need the chunked scanner (start-up time).
        from psgdiag.pipeline.bigfile import scan_stream
        from psgdiag.pipeline.bytestream import prefixed

        return scan_stream(prefixed(data, stream), name, kb)
    return normalize(decode(data, name))
