"""How the knowledge base covers the message catalog, and what it can diagnose without language.

For `psgdiag signatures check` and `psgdiag messages`:
- per cause, whether it can be diagnosed with no natural-language text at all: its `[match]`
  can be met by evidence that needs none (an FQID, an exception type, an HTTP status, a fact, an
  incident, or a catalogued message that is recognised by its FQID or its record shape), strong
  enough together to reach the diagnosis threshold;
- the catalogued messages no signature names;
- the signature phrases (text and regex evidence) that match no catalogued message: what no
  program printed (ticket prose, a sequence of messages) or a message the catalog lacks.
"""

from __future__ import annotations

from collections.abc import Iterable

from psgdiag import regexcode
from psgdiag.kb.catalog import Catalog, shapes
from psgdiag.kb.regex import cached_regex
from psgdiag.model import EvidenceKind, KnowledgeBase, Message, Signature, Strength
from psgdiag.pipeline.score import THRESHOLD, WEIGHTS
from psgdiag.pipeline.textview import compact, fold
from psgdiag.record import record

_NEUTRAL_KINDS = frozenset(
    {
        EvidenceKind.FQID,
        EvidenceKind.MSG_KEY,
        EvidenceKind.EXCEPTION,
        EvidenceKind.HTTP_STATUS,
        EvidenceKind.FACT,
        EvidenceKind.INCIDENT,
    }
)
_SAMPLE = {
    "module": "Contoso.Tools",
    "version": "1.2.3",
    "uri": "https://www.powershellgallery.com/api/v2",
    "path": r"C:\Program Files\WindowsPowerShell\Modules",
    "repository": "PSGallery",
    "provider": "NuGet",
    "cmdlet": "Install-Module",
    "parameter": "AllowPrerelease",
    "status": "503",
    "reason": "Service Unavailable",
}
_SLOT = regexcode.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WEAKER = {Strength.STRONG: Strength.MEDIUM, Strength.MEDIUM: Strength.WEAK}


@record
class CauseCoverage:
    """Whether one cause can be diagnosed from language-neutral evidence alone."""

    cause: str
    language_neutral: bool
    via: tuple[str, ...]  # the evidence names that need no natural language


@record
class Coverage:
    """The knowledge base against the catalog."""

    causes: tuple[CauseCoverage, ...]
    unused_messages: tuple[str, ...]
    stray_phrases: tuple[tuple[str, str], ...]  # (signature id, evidence name)


def named_messages(sig: Signature) -> set[str]:
    """The message ids a signature names (base ids: any wording)."""
    return {ev.pattern.split("@", 1)[0] for ev in sig.evidence if ev.kind == EvidenceKind.MESSAGE}


def causes_of(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Each named message id (base id) -> the causes whose signatures name it."""
    out: dict[str, list[str]] = {}
    for sig in kb.signatures:
        for msg_id in sorted(named_messages(sig)):
            out.setdefault(msg_id, []).append(sig.id)
    return out


def _identity_recognisable(catalog: Catalog) -> set[str]:
    """Base ids of messages recognised without their text: by an error id or a record shape."""
    ids = {m.id.split("@", 1)[0] for m in catalog.messages.values() if m.error_ids}
    ids.update(s.message.split("@", 1)[0] for s in shapes(catalog))
    return ids


def cause_coverage(sig: Signature, neutral_messages: set[str]) -> CauseCoverage:
    """Whether `sig` can be diagnosed from evidence that needs no natural language."""
    weights: dict[str, float] = {}
    for ev in sig.evidence:
        if ev.strength in (Strength.CONTEXT, Strength.AGAINST):
            continue
        if ev.kind in _NEUTRAL_KINDS:
            weights[ev.name] = WEIGHTS[ev.strength]
        elif ev.kind == EvidenceKind.MESSAGE and ev.pattern.split("@")[0] in neutral_messages:
            # a record-shape recognition counts one strength lower
            weights[ev.name] = WEIGHTS[_WEAKER.get(ev.strength, ev.strength)]
    ok = all(name in weights for name in sig.requires_all) and (
        not sig.requires_any or any(name in weights for name in sig.requires_any)
    )
    miss = 1.0
    for weight in weights.values():
        miss *= 1 - weight
    ok = ok and 1 - miss >= THRESHOLD
    return CauseCoverage(sig.id, ok, tuple(sorted(weights)))


def _samples(msg: Message) -> Iterable[str]:
    for text in (msg.template, *(t.text for t in msg.translations)):
        yield _SLOT.sub(lambda m: _SAMPLE.get(m.group(1), "value"), text)


def stray_phrases(kb: KnowledgeBase, catalog: Catalog) -> list[tuple[str, str]]:
    """Text and regex evidence that matches no catalogued message text."""
    samples = [s for msg in catalog.messages.values() for s in _samples(msg)]
    folded = [fold(compact(s)) for s in samples]
    out = []
    for sig in kb.signatures:
        for ev in sig.evidence:
            if ev.kind == EvidenceKind.TEXT:
                needle = fold(compact(ev.pattern))
                found = any(needle in text for text in folded)
            elif ev.kind == EvidenceKind.REGEX:
                rx = cached_regex(ev.pattern)
                found = any(rx.search(s.encode("utf-8")) is not None for s in samples)
            else:
                continue
            if not found:
                out.append((sig.id, ev.name))
    return out


def coverage(kb: KnowledgeBase, catalog: Catalog) -> Coverage:
    """The whole coverage report."""
    neutral = _identity_recognisable(catalog)
    used = set(causes_of(kb))
    unused = sorted(m.id for m in catalog.messages.values() if m.id.split("@", 1)[0] not in used)
    return Coverage(
        causes=tuple(cause_coverage(sig, neutral) for sig in kb.signatures),
        unused_messages=tuple(unused),
        stray_phrases=tuple(stray_phrases(kb, catalog)),
    )
