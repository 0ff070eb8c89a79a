"""Frozen data passed between the pipeline stages (bytes -> text -> Document -> Facts -> Report)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Sequence
from typing import NamedTuple

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


class EvidenceKind(_Named):
    """What an evidence entry is matched against; each kind has one matcher."""

    TEXT = "text"  # a literal phrase, whitespace- and wrap-insensitive (+ fuzzy)
    REGEX = "regex"  # an RE2 pattern over the spaced view
    FQID = "fqid"  # a FullyQualifiedErrorId (or its error id)
    MSG_KEY = "msg_key"  # a raw PackageManagement MSG:<Key>
    HTTP_STATUS = "http_status"  # HTTP status codes seen in the log
    EXCEPTION = "exception"  # an exception type name
    FACT = "fact"  # a predicate over extracted facts
    INCIDENT = "incident"  # the failure time falls inside an incident of this cause
    MESSAGE = "message"  # a catalogued message the program printed, in any known language


# ---------------------------------------------------------------- message catalog


@record
class Translation:
    """A message's text in another UI language, as seen in real output."""

    locale: str
    text: str
    source: str = ""


@record
class Message:
    """One message the install stack can print, keyed by its identity (data/messages/*.toml)."""

    id: str  # <Component>.<key>, e.g. PackageManagement.NoMatchFoundForProvider
    component: str
    key: str
    template: str  # English, with {slot} holes
    stream: str  # error | warning | verbose | debug | prompt | progress | inner
    source: str
    versions: tuple[str, ...] = ()
    error_ids: tuple[str, ...] = ()
    fqids: tuple[str, ...] = ()
    category: str = ""
    exception: str = ""
    translations: tuple[Translation, ...] = ()


@record
class MessageText:
    """One text of a message (the English template or a translation), ready to search."""

    message: str  # the message id
    locale: str  # "en" for the template
    regex: str  # RE2 pattern over the compact view; one group per slot
    slots: tuple[str, ...]  # slot names, in group order
    anchor: str  # its longest literal piece, as found in the view named by `folded`
    folded: bool  # anchor is in the folded (ASCII) view, else in the compact view
    pieces: tuple[str, ...]  # compact literal pieces long enough to be matched approximately
    words: frozenset[str]  # its distinctive words, to pick candidates for approximate matching
    phrase: str = ""  # a short, slot-free ASCII text: its words must stand apart on the line
    runs: tuple[str, ...] = ()  # ASCII runs of 6+ characters every match holds verbatim
    folded_pieces: tuple[str, ...] = ()  # pieces as folded, when folding rewrites any of them
    truncated: bool = False  # only the template's first sentence (psgdiag.kb.truncated)


@record
class Shape:
    """How an error record printing a message looks, whatever its language (for recognition)."""

    message: str  # the message id
    category: str  # lower case ErrorCategory, "" when unknown
    exception: str  # lower case short exception type name, "" when unknown
    wheres: tuple[str, ...]  # the commands that raise it: installmodule, installpackage ...
    tokens: frozenset[str]  # its template's language-neutral tokens (psgdiag.pipeline.skeleton)
    quotes: int  # how many quoted values the template prints
    error_ids: tuple[str, ...] = ()
    words: int = 0  # how many words its template prints (0: not counted)


@record
class Said:
    """A catalogued message recognised in the document, and how it was recognised."""

    message: str  # the message id
    line_start: int
    line_end: int
    how: str  # fqid | error-id | template | fuzzy | fqid-template
    locale: str = ""  # the language of the text that matched ("" when by identity)
    slots: tuple[tuple[str, str], ...] = ()  # compact, lower-case slot values
    score: int = 100


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
    kind: EvidenceKind
    pattern: str = ""
    fuzzy: int = 0
    locale: str = ""
    stream: str = ""
    statuses: tuple[int, ...] = ()
    fact: FactTest | None = None
    needle: str = ""  # text kind: the pattern in the view it is searched in, worked out at load
    slots: tuple[tuple[str, str], ...] = ()  # message kind: slot conditions (name, value)
    describe: str = ""  # what it is, in words a reader can act on ("a 'running scripts ...' error")


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


class Gate(NamedTuple):
    """What a document must hold for any evidence of one signature to hit.

    Made by psgdiag.kb.snapshot for lazily loaded signatures. A named tuple: it unpickles as
    fast as a plain tuple, which matters with a thousand gates.
    """

    sig_id: str
    deprecated: bool
    always: bool  # some evidence this gate cannot pre-check: never skip the signature
    regexes: tuple[str, ...]
    needles: tuple[str, ...]  # ASCII text evidence, as searched in the folded view
    fqids: tuple[tuple[str, str], ...]  # (compact FQID, lower-case error id)
    statuses: tuple[int, ...]
    facts: tuple[FactTest, ...]
    has_msg_key: bool
    has_exception: bool
    has_incident: bool
    # non-ASCII text: (compact needle, literal piece the '?'-tolerant form needs, or "")
    compacts: tuple[tuple[str, str], ...]
    # fuzzy text: (needle length, pieces of which any approximate match holds one verbatim)
    fuzzies: tuple[tuple[int, tuple[str, ...]], ...]
    messages: tuple[str, ...] = ()  # message evidence: ids of the catalogued messages named


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
    # one Gate per signature (same order), or () when every signature is to be matched
    gates: tuple[Gate, ...] = ()
    # the catalogued messages the signatures name, and their searchable texts
    messages: dict[str, Message] = field(default_factory=dict)
    texts: tuple[MessageText, ...] = ()
    # every catalogued error's record shape (to tell which one an untranslatable record is)
    shapes: Sequence[Shape] = ()  # a tuple, or psgdiag.kb.snapshot.LazyShapes from a snapshot

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
    exception: str = ""  # the exception type CategoryInfo names
    activity: str = ""  # the command CategoryInfo names ([Install-Package])
    line_end: int = 0  # the last line of the message, when it spans several


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


#: How far an approximate incident start ("around 20:00", certainty A or ?) reaches back.
APPROX_EDGE = dt.timedelta(minutes=30)


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
    def window_start(self) -> dt.datetime:
        """Return the start, APPROX_EDGE earlier when the source gives it only approximately.

        A status entry's "around 20:00" is not a bound: a failure at 19:59 belongs to it.
        """
        edge = self.certainty.split("/", 1)[0]
        return self.start - APPROX_EDGE if edge in ("A", "?") else self.start

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
    score: float = 0.0  # the ranker's raw score, before calibration (psgdiag.pipeline.calibrate)


@record
class ProbeCheck:
    """What a live probe run by `explain --probe` found, folded into the report."""

    note: str  # one sentence for the card: is the problem still there now, seen from here?
    verdict: str | None = None  # "ok", a cause id, or None when the probe could not run
    error: str = ""  # why the probe could not run
    document: dict[str, object] = field(default_factory=dict)  # probe.schema.json, as `probe`

    def as_json(self) -> dict[str, object]:
        """The `probe` object of the explain JSON document."""
        if self.verdict is None:
            return {"verdict": None, "note": self.note, "error": self.error}
        return {**self.document, "note": self.note}


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
    probe: ProbeCheck | None = None
    said: tuple[Said, ...] = ()  # the catalogued messages recognised in the input
