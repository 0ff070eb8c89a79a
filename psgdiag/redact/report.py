"""A report whose input-derived text is masked: what every redacting output renders.

Redaction touches the user's text only. The lines quoted from the input, the evidence, the facts
and the values filled into placeholders (`{module}`, `{repository}`, `{path}`, `slot_*`) are
masked where they hold a secret or a personal name; psgdiag's own titles, summaries, remedies
and commands are left exactly as written, their placeholders filled with the masked values. A
value counts as secret when its own text shows it (a token shape, a profile path), when its name
says so (a `password` slot), or when the input around it did (`-ApiKey abc` makes `abc` one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from psgdiag import regexcode
from psgdiag.model import (
    Diagnosis,
    Document,
    ErrorRecord,
    Facts,
    FactValue,
    Hit,
    Line,
    ProbeCheck,
    Report,
    Said,
    WhyNot,
)
from psgdiag.pipeline.score import fill
from psgdiag.record import replace
from psgdiag.redact import EMAIL, MACHINE, SECRET, USER, apply, redact, spans

MASKS = frozenset((SECRET, USER, EMAIL, MACHINE, f"{SECRET}:{SECRET}"))
MIN_KNOWN = 3  # a shorter masked piece is not looked for elsewhere (it would match anything)

# A value's name can say what it is, whatever it looks like.
_NAME_KINDS = (
    (regexcode.compile(r"(?i)(?:^|_)(?:password|passwd|pwd|secret|token|api_?key|pat)s?$"), SECRET),
    (regexcode.compile(r"(?i)(?:^|_)(?:user|user_?name|user_?id|upn|account)$"), USER),
    (regexcode.compile(r"(?i)(?:^|_)e?mail(?:_?address)?$"), EMAIL),
    (regexcode.compile(r"(?i)(?:^|_)(?:machine|computer|computer_?name)$"), MACHINE),
)

T = TypeVar("T")


class Masker:
    """Masks input-derived strings, knowing the secrets the whole input revealed by context."""

    def __init__(self, known: Mapping[str, str], lines: Mapping[str, str] | None = None) -> None:
        self.known = {k: v for k, v in known.items() if len(k) >= MIN_KNOWN}
        alternatives = "|".join(re.escape(k) for k in sorted(self.known, key=len, reverse=True))
        self._known_rx = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if self.known else None
        # The same strings recur (evidence lines are document lines; facts repeat): mask once.
        self._done: dict[str, str] = {t: self.seen(m) for t, m in (lines or {}).items()}

    def seen(self, text: str) -> str:
        """Replace the secrets the input revealed elsewhere (`abc` after `-ApiKey abc`)."""
        if self._known_rx is None or not text:
            return text
        return self._known_rx.sub(lambda m: self.known[m.group(0)], text)

    def text(self, text: str) -> str:
        """Mask a piece of the user's text: its own secrets, and those seen elsewhere."""
        done = self._done.get(text)
        if done is None:
            done = self._done[text] = self.seen(redact(text))
        return done

    def value(self, name: str, value: str) -> str:
        """Mask a value taken from the input; its name may mark it secret or personal."""
        if not value or value in MASKS:
            return value
        for rx, mask in _NAME_KINDS:
            if rx.search(name):
                return mask
        return self.text(value)

    def pairs(self, items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        """Mask the values of (name, value) pairs."""
        return tuple((k, self.value(k, v)) for k, v in items)


def _mask_lines(lines: tuple[Line, ...]) -> tuple[tuple[Line, ...], dict[str, str]]:
    """Mask the document as one text (a private key spans lines); return what was masked."""
    joined = "\n".join(ln.text for ln in lines)
    found = spans(joined)
    if not found:
        return lines, {}
    texts = apply(joined, found).split("\n")
    if len(texts) != len(lines):  # a rule never adds or removes a line break; be safe anyway
        texts = [redact(ln.text) for ln in lines]
    known = {joined[s:e]: mask for s, e, mask in found if "\n" not in joined[s:e]}
    pairs = zip(lines, texts, strict=True)
    masked = tuple(ln if t == ln.text else replace(ln, text=t, raw=t) for ln, t in pairs)
    return masked, known


def _masker(doc: Document) -> tuple[tuple[Line, ...], Masker]:
    """The masked lines, and a Masker that knows the secrets they held and their masked text."""
    lines, known = _mask_lines(doc.lines)
    return lines, Masker(known, {a.text: b.text for a, b in zip(doc.lines, lines, strict=True)})


def _hit(h: Hit, m: Masker) -> Hit:
    return replace(h, text=m.text(h.text), groups=m.pairs(h.groups))


def _fact_values(vals: tuple[FactValue, ...], m: Masker, name: str = "") -> tuple[FactValue, ...]:
    return tuple(replace(v, value=m.value(name, v.value)) for v in vals)


def _facts(f: Facts, m: Masker) -> Facts:
    records: tuple[ErrorRecord, ...] = tuple(
        replace(r, message=m.text(r.message), fqid=m.text(r.fqid)) for r in f.records
    )
    time = replace(f.time, text=m.text(f.time.text)) if f.time is not None else None
    return replace(
        f,
        values={k: _fact_values(v, m, k) for k, v in f.values.items()},
        records=records,
        fqids=_fact_values(f.fqids, m),
        msg_keys=_fact_values(f.msg_keys, m),
        exceptions=_fact_values(f.exceptions, m),
        urls=_fact_values(f.urls, m),
        time=time,
    )


def _diagnosis(d: Diagnosis, m: Masker) -> Diagnosis:
    variables = m.pairs(d.variables)
    template = d.signature.explain.summary
    if d.summary == fill(template, dict(d.variables)):
        summary = fill(template, dict(variables))  # psgdiag's words, the user's values masked
    else:
        summary = m.seen(d.summary)
    return replace(
        d,
        hits=tuple(_hit(h, m) for h in d.hits),
        summary=summary,
        variables=variables,
        notes=tuple(m.seen(n) for n in d.notes),
    )


def _tree(value: T, m: Masker) -> T:
    """Mask the strings of a JSON-shaped value (the probe's document)."""
    if isinstance(value, str):
        return m.seen(value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [_tree(v, m) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: _tree(v, m) for k, v in value.items()}  # type: ignore[return-value]
    return value


def _probe(p: ProbeCheck | None, m: Masker) -> ProbeCheck | None:
    if p is None:
        return None
    return replace(p, note=m.seen(p.note), error=m.seen(p.error), document=_tree(p.document, m))


def masked_report(report: Report) -> Report:
    """Return a copy of the report with every input-derived string masked, for display only."""
    doc = report.document
    lines, m = _masker(doc)
    document: Document = replace(doc, lines=lines, source=m.text(doc.source))
    said: tuple[Said, ...] = tuple(replace(s, slots=m.pairs(s.slots)) for s in report.said)
    runners: tuple[WhyNot, ...] = tuple(
        replace(w, reason=m.seen(w.reason), hits=tuple(_hit(h, m) for h in w.hits))
        for w in report.runners_up
    )
    return replace(
        report,
        diagnoses=tuple(_diagnosis(d, m) for d in report.diagnoses),
        runners_up=runners,
        facts=_facts(report.facts, m),
        document=document,
        notes=tuple(m.seen(n) for n in report.notes),
        probe=_probe(report.probe, m),
        said=said,
    )
