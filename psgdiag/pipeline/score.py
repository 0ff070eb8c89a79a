"""Candidates -> ranked diagnoses: strengths, requires/excludes, causal chains, incidents, why-not.

Confidence is a noisy-or of the positive evidence (strong .9, medium .6, weak .25); each
`against` hit halves it. A cause whose signature says it is a consequence of another viable
cause is folded into that root cause's chain. Ranking is deterministic: score, then id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from psgdiag import regexcode
from psgdiag.incidents import history as inc_mod
from psgdiag.kb.describe import describe
from psgdiag.model import (
    Diagnosis,
    Facts,
    Fault,
    Hit,
    Incident,
    Signature,
    Strength,
    WhyNot,
)
from psgdiag.pipeline import calibrate
from psgdiag.record import record

WEIGHTS = {Strength.STRONG: 0.9, Strength.MEDIUM: 0.6, Strength.WEAK: 0.25, Strength.CONTEXT: 0.0}
AGAINST_FACTOR = 0.5
THRESHOLD = 0.45
RECORD_BONUS = 0.04  # evidence inside an error record outranks prompts and verbose chatter
MAX_DIAGNOSES = 5
MIN_FURTHER = 0.1  # a further diagnosis below this calibrated confidence is not shown
FOLD_MARGIN = 0.25  # a root cause may be this much less certain than its consequence
_PLACEHOLDER = regexcode.compile(r"\{([a-z_]+)(?:\|([^{}]*))?\}")


@record
class Candidate:
    """A signature with its hits and where it stands."""

    sig: Signature
    hits: tuple[Hit, ...]
    confidence: float
    rank: float
    rejected: str = ""


#: Ways of recognising a message from one line's identity alone (an FQID, an error id, a
#: record's shape): every message sharing that identity is recognised on the same line.
_BY_IDENTITY = frozenset(
    {"message-fqid", "message-fqid-template", "message-error-id", "message-record"}
)


def _one_per_line(hits: Sequence[Hit]) -> list[Hit]:
    """Hits with the messages one identity line stands for counted once: the strongest."""
    out: list[Hit] = []
    best: dict[tuple[int, int], Hit] = {}
    for h in hits:
        if h.kind not in _BY_IDENTITY or h.strength == Strength.AGAINST or not h.line_start:
            out.append(h)
            continue
        key = (h.line_start, h.line_end)
        if key not in best or WEIGHTS[h.strength] > WEIGHTS[best[key].strength]:
            best[key] = h
    return out + list(best.values())


def confidence(hits: Sequence[Hit]) -> float:
    """Combine hit strengths into a confidence in 0..1 (each evidence counted once, and the
    messages one FQID or record line stands for counted as one)."""
    miss = 1.0
    against = 0
    seen: set[str] = set()
    for h in _one_per_line(hits):
        if h.evidence in seen:
            continue
        seen.add(h.evidence)
        if h.strength == Strength.AGAINST:
            against += 1
        else:
            miss *= 1.0 - WEIGHTS[h.strength]
    return round((1.0 - miss) * (AGAINST_FACTOR**against), 4)


def _names(names: Sequence[str], shown: int = 3) -> str:
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def evaluate(sig: Signature, hits: tuple[Hit, ...], record_lines: frozenset[int]) -> Candidate:
    """Apply requires/excludes and compute confidence and rank for one signature."""
    names = {h.evidence for h in hits}
    reason = ""
    missing_all = [n for n in sig.requires_all if n not in names]
    if missing_all:
        reason = "lacks " + _names(missing_all)
    elif sig.requires_any and not names.intersection(sig.requires_any):
        reason = "lacks any of " + _names(sig.requires_any)
    else:
        ruled = [n for n in sig.excludes if n in names]
        if ruled:
            reason = "ruled out by " + ", ".join(ruled)
    conf = confidence([h for h in hits if h.evidence not in sig.excludes])
    bonus = (
        RECORD_BONUS
        if any(
            h.line_start in record_lines and h.strength in (Strength.STRONG, Strength.MEDIUM)
            for h in hits
        )
        else 0.0
    )
    return Candidate(sig, hits, conf, conf + bonus, reason)


def fill(template: str, variables: dict[str, str]) -> str:
    """Fill `{name}` / `{name|default}` placeholders from the diagnosis variables."""

    def sub(m: re.Match[str]) -> str:
        val = variables.get(m.group(1))
        if val:
            return val
        return m.group(2) if m.group(2) is not None else m.group(1).replace("_", " ")

    return _PLACEHOLDER.sub(sub, template)


def variables_for(hits: Sequence[Hit], facts: Facts) -> dict[str, str]:
    """Collect placeholder values: regex groups and message slots of the hits, then facts."""
    out: dict[str, str] = {}
    for h in hits:
        for k, v in h.groups:
            out.setdefault(k, v)
    # A message's slot fills the placeholder of its name too: {slot_module} and {module}.
    for k, v in list(out.items()):
        if k.startswith("slot_"):
            out.setdefault(k[len("slot_") :], v)
    for name, vals in facts.values.items():
        if vals:
            out.setdefault(name, vals[0].value)
    return out


def rank(
    candidates: Sequence[Candidate],
    facts: Facts,
    incidents: Sequence[Incident],
) -> tuple[tuple[Diagnosis, ...], tuple[WhyNot, ...]]:
    """Turn evaluated candidates into ranked diagnoses and why-not notes."""
    viable = [c for c in candidates if not c.rejected and c.confidence >= THRESHOLD]
    viable.sort(key=lambda c: (-c.rank, c.sig.id))
    viable_ids = {c.sig.id for c in viable}
    conf_of = {c.sig.id: c.confidence for c in viable}
    roots: list[Candidate] = []
    chains: dict[str, list[str]] = {}
    for c in viable:
        # Fold into a root cause only when the root is about as well supported: a weakly evidenced
        # "root" must not swallow a well-evidenced specific error.
        root = next(
            (
                r
                for r in c.sig.consequence_of
                if r in viable_ids and r != c.sig.id and conf_of[r] >= c.confidence - FOLD_MARGIN
            ),
            None,
        )
        if root is not None:
            chains.setdefault(root, []).append(c.sig.id)
        else:
            roots.append(c)
    diagnoses: list[Diagnosis] = []
    uncertain: list[WhyNot] = []
    for c in roots[:MAX_DIAGNOSES]:
        shown = calibrate.probability(c.confidence, first=not diagnoses)
        floor = calibrate.calibration().abstain_below if not diagnoses else MIN_FURTHER
        if shown < floor:
            why = f"not certain enough to offer ({shown:.0%} after calibration)"
            uncertain.append(WhyNot(c.sig.id, shown, why, c.hits))
            continue
        variables = variables_for(c.hits, facts)
        incident = inc_mod.correlate(incidents, c.sig.id, facts.time)
        fault, transient = c.sig.fault, c.sig.transient
        notes: list[str] = []
        if incident is not None:
            fault, transient = Fault.SERVICE, True
            notes.append(f"the failure time falls inside incident {incident.id}")
        possible: tuple[Incident, ...] = ()
        fits: tuple[tuple[str, str], ...] = ()
        outside: tuple[str, ...] = ()
        if facts.time is None:
            # Imported here: only a paste without a written time needs it (start-up time).
            from psgdiag.pipeline.era import rank as era_rank

            possible, fits, outside = era_rank(inc_mod.possible(incidents, c.sig.id), facts.era)
        diagnoses.append(
            Diagnosis(
                signature=c.sig,
                confidence=shown,
                score=c.confidence,
                hits=tuple(sorted(c.hits, key=lambda h: (h.line_start == 0, h.line_start))),
                fault=fault,
                transient=transient,
                summary=fill(c.sig.explain.summary, variables),
                incident=incident,
                possible_incidents=possible,
                possible_fit=fits,
                not_offered=outside,
                consequences=tuple(chains.get(c.sig.id, ())),
                variables=tuple(sorted(variables.items())),
                notes=tuple(notes),
            )
        )
    whynot: list[WhyNot] = list(uncertain)
    for c in roots[MAX_DIAGNOSES:]:
        whynot.append(WhyNot(c.sig.id, c.confidence, "less evidence than the causes shown", c.hits))
    for c in sorted(candidates, key=lambda c: (-c.confidence, c.sig.id)):
        # A competitor only when evidence that can establish it hit this log (not mere context).
        if c.sig.id in viable_ids or not _own_hits(c):
            continue
        shown = 0.0 if c.rejected else c.confidence
        whynot.append(WhyNot(c.sig.id, shown, why_not(c), c.hits))
    return tuple(diagnoses), tuple(whynot)


def _own_hits(c: Candidate) -> list[Hit]:
    """Hits of the evidence a signature requires: what can establish the cause at all."""
    keys = set(c.sig.requires_any) | set(c.sig.requires_all)
    return [
        h
        for h in c.hits
        if h.evidence in keys
        and h.strength not in (Strength.CONTEXT, Strength.AGAINST)
        and h.kind not in ("fact", "incident")
    ]


def _words(sig: Signature, names: Sequence[str], joiner: str) -> str:
    """Evidence names in words (their describe field, else what they match)."""
    by_name = {ev.name: ev for ev in sig.evidence}
    said: list[str] = []
    for name in names:
        ev = by_name.get(name)
        text = describe(ev, {}) if ev is not None else ""
        if text and text not in said:
            said.append(text)
    if not said:
        return "more evidence of this cause"
    shown = said[:3]
    return f" {joiner} ".join(shown) + (f" {joiner} similar" if len(said) > 3 else "")


def why_not(c: Candidate) -> str:
    """Why a considered cause was not chosen, in words a reader can act on."""
    names = {h.evidence for h in c.hits}
    ruled = [n for n in c.sig.excludes if n in names]
    if ruled:
        return "ruled out by " + _words(c.sig, ruled, "and")
    missing = [n for n in c.sig.requires_all if n not in names]
    if missing:
        return "would also need " + _words(c.sig, missing, "and")
    strong = [
        ev.name
        for ev in c.sig.evidence
        if ev.name in c.sig.requires_any and ev.strength == Strength.STRONG and ev.name not in names
    ]
    return "the evidence here is not enough; it would need " + _words(c.sig, strong, "or")
