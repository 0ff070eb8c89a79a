"""Frozen data passed between the pipeline stages (bytes -> text -> Document -> Facts -> Report)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Sequence
from typing import Any

from psgdiag.record import field, record


class _Named(enum.StrEnum):
    """A string enum pickled as a reference to its member (Strength.STRONG), not a call.

    Enum members unpickle through a call of their class by value, about a microsecond each;
    a knowledge-base snapshot holds thousands of them, in blobs that share no memo.
    """

    # pickle accepts a str from __reduce_ex__ as "the global of that name"; typeshed types only
    # the tuple form
    def __reduce_ex__(self, protocol: object) -> str:  # type: ignore[override]
        return f"{type(self).__qualname__}.{self.name}"


class Strength(_Named):
    """How much one evidence hit says about its cause (message-catalog S/M/W/C legend)."""

    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"
    CONTEXT = "context"
    AGAINST = "against"


class Fault(_Named):
    """Whose side a cause is on."""

    SERVICE = "service"
    NETWORK = "network"
    CLIENT = "client"
    PACKAGE = "package"
    UNDETERMINED = "undetermined"


class Status(_Named):
    """Maturity of a signature."""

    EXPERIMENTAL = "experimental"
    STABLE = "stable"
    DEPRECATED = "deprecated"


class Scope(_Named):
    """How far a remedy reaches."""

    SESSION = "session"
    USER = "user"
    MACHINE = "machine"
    NONE = "none"


class Risk(_Named):
    """How safe a remedy is."""

    SAFE = "safe"
    CAUTION = "caution"
    UNSAFE = "unsafe"


# ---------------------------------------------------------------- knowledge base


@record
class FactTest:
    """A predicate on extracted facts: `name op value` (op may be 'exists' / 'missing')."""

    name: str
    op: str
    value: str = ""
    every: bool = False  # "every host ~ ...": all values must satisfy it (and there is one)


@record
class Evidence:
    """One named clue of a signature; exactly one matcher kind is set."""

    name: str
    strength: Strength
    kind: str  # text | regex | fqid | msg_key | http_status | exception | fact | incident
    pattern: str = ""
    fuzzy: int = 0
    locale: str = ""
    stream: str = ""
    statuses: tuple[int, ...] = ()
    fact: FactTest | None = None
    needle: str = ""  # text kind: the pattern in the view it is searched in, worked out at load


@record
class Remedy:
    """One step the user can take, graded by scope and risk."""

    title: str
    command: str
    scope: Scope
    risk: Risk
    admin: bool
    verify: str = ""
    cost: str = ""


@record
class Example:
    """An inline snippet the signature must (or must not) match."""

    expect: str  # "match" | "no-match"
    text: str


@record
class Explain:
    """The prose shown for a diagnosis."""

    summary: str
    why: str = ""
    note: str = ""
    hint: str = ""
    settle: str = ""
    false_positives: tuple[str, ...] = ()


@record
class Signature:
    """A validated cause signature loaded from signatures/<id>.toml."""

    id: str
    title: str
    status: Status
    category: str
    fault: Fault
    transient: bool
    references: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    requires_any: tuple[str, ...]
    requires_all: tuple[str, ...]
    excludes: tuple[str, ...]
    consequence_of: tuple[str, ...]
    co_occurs_with: tuple[str, ...]
    explain: Explain
    remedies: tuple[Remedy, ...]
    examples: tuple[Example, ...]
    source: str = ""
    aliases: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


@record
class KnowledgeBase:
    """All signatures, best loaded once per run."""

    signatures: Sequence[Signature]  # a tuple, or psgdiag.lazykb.LazySignatures from a snapshot
    version: str
    sources: tuple[str, ...] = ()
    # regex -> phrase sets each match needs (psgdiag.anchors), kept in the cached snapshot
    required: dict[str, tuple[Collection[str], ...]] = field(default_factory=dict)
    # every phrase of `required`, by its first three characters (see match.present_phrases)
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # one psgdiag.lazykb gate per signature (same order), or () when every one is to be matched
    gates: tuple[tuple[Any, ...], ...] = ()

    def get(self, sig_id: str) -> Signature | None:
        """Return the signature with this id or alias, or None."""
        for sig in self.signatures:
            if sig.id == sig_id or sig_id in sig.aliases:
                return sig
        return None


# ---------------------------------------------------------------- input


@record
class Line:
    """One cleaned line with its 1-based line number in the original input."""

    no: int
    text: str
    raw: str
    stream: str = ""  # error | warning | verbose | debug | prompt | ""


@record
class Document:
    """The normalised input: cleaned lines plus how it was decoded."""

    lines: tuple[Line, ...]
    encoding: str = "utf-8"
    source: str = "<stdin>"
    total_lines: int = 0
    notes: tuple[str, ...] = ()


@record
class TimeRange:
    """When the failure happened, as an interval (an exact time has lo == hi)."""

    lo: dt.datetime
    hi: dt.datetime
    origin: str  # --at | ci-timestamp | transcript | get-date | prose | clock
    line: int = 0
    text: str = ""

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Return True when this range meets [start, end]."""
        return self.lo <= end and start <= self.hi


@record
class FactValue:
    """One extracted fact with the line it came from (0 when it came from no line)."""

    value: str
    line: int = 0


@record
class ErrorRecord:
    """A PowerShell error record found in the text."""

    message: str
    line: int
    cmdlet: str = ""
    category: str = ""
    fqid: str = ""


@record
class Fingerprint:
    """A client or platform version a log names, with the dates data/eras.toml gives it."""

    component: str
    label: str  # "PowerShellGet 1.0.0.1"
    line: int
    since: dt.date  # it did not exist before: the log is not older
    current_until: dt.date | None  # the last day it was current (None: still current)
    note: str = ""  # how the dates were found ("between 2.2.3 and 2.2.4", "still current")
    source: str = ""


@record
class Era:
    """When a log that writes no time can have been written, from its fingerprints."""

    since: dt.date  # the newest fingerprint's first day
    current_until: dt.date | None  # the last day every fingerprint was current
    offered_until: dt.date | None  # later incidents are not offered (current_until + stale days)
    fingerprints: tuple[Fingerprint, ...]
    note: str = ""


@record
class Facts:
    """Everything extracted from a Document, before any signature is consulted."""

    values: dict[str, tuple[FactValue, ...]] = field(default_factory=dict)
    records: tuple[ErrorRecord, ...] = ()
    fqids: tuple[FactValue, ...] = ()
    msg_keys: tuple[FactValue, ...] = ()
    http_statuses: tuple[tuple[int, int], ...] = ()  # (status, line)
    exceptions: tuple[FactValue, ...] = ()
    urls: tuple[FactValue, ...] = ()
    time: TimeRange | None = None
    era: Era | None = None  # set when no time is known (psgdiag.pipeline.era)
    derived: frozenset[str] = frozenset()  # facts filled from a fallback, not read as such

    def first(self, name: str) -> str | None:
        """Return the first value of a fact, or None."""
        vals = self.values.get(name)
        return vals[0].value if vals else None


# ---------------------------------------------------------------- results


@record
class Hit:
    """One evidence that matched, with the original lines that prove it."""

    evidence: str
    strength: Strength
    kind: str
    line_start: int
    line_end: int
    text: str
    groups: tuple[tuple[str, str], ...] = ()


@record
class Incident:
    """A dated gallery incident or service change."""

    id: str
    title: str
    start: dt.datetime
    end: dt.datetime | None
    kind: str
    impact: str
    causes: tuple[str, ...]
    certainty: str = ""
    summary: str = ""
    root_cause: str = ""
    workaround: str = ""
    symptoms: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    end_assumed: dt.datetime | None = None
    permanent: bool = False  # a lasting service change: context, never "retry later"
    state: str = ""  # resolved | ongoing | mitigating, as the status page says; "" when unknown
    end_reason: str = ""  # why end_assumed was chosen

    @property
    def window_end(self) -> dt.datetime:
        """Return the effective end of the window (assumed end when the real one is unknown)."""
        if self.end is not None:
            return self.end
        if self.end_assumed is not None:
            return self.end_assumed
        return dt.datetime.max.replace(tzinfo=dt.UTC)


@record
class WhyNot:
    """A cause that was considered and rejected or outranked, and why."""

    cause: str
    confidence: float
    reason: str
    hits: tuple[Hit, ...] = ()


@record
class Diagnosis:
    """One explained cause with its confidence, evidence and remedies."""

    signature: Signature
    confidence: float
    hits: tuple[Hit, ...]
    fault: Fault
    transient: bool
    summary: str
    incident: Incident | None = None
    possible_incidents: tuple[Incident, ...] = ()  # best fit first
    # (fit, why) of each possible incident, same order: fit is current | stale | unknown
    possible_fit: tuple[tuple[str, str], ...] = ()
    not_offered: tuple[str, ...] = ()  # incidents of this cause outside the era
    consequences: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


@record
class Report:
    """The result of diagnosing one input."""

    diagnoses: tuple[Diagnosis, ...]
    runners_up: tuple[WhyNot, ...]
    facts: Facts
    document: Document
    kb_version: str
    verdict: str  # none | fix | retry
    notes: tuple[str, ...] = ()
    probe: dict[str, object] | None = None
