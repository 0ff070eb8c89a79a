"""A knowledge-base snapshot whose signatures are unpickled only when a document needs them.

Loading every signature of a large knowledge base costs more than diagnosing a paste with it:
about 40 µs a signature, mostly the evidence objects. The snapshot therefore keeps each signature
as its own pickled blob next to a *gate*: plain data saying what a document must contain for any
of the signature's evidence to hit (a regex's required phrases, a text needle, an error id, a
status code, a fact). `Matcher.may_hit` checks the gate - a necessary condition, never more
than what the matcher itself would test - and only signatures that pass are unpickled and
matched. A signature that fails its gate has no hit, so it could not have been a candidate: the
report is the same as with every signature loaded (tests/test_lazykb.py checks this on every
sample case).

Anything that iterates `kb.signatures` (the checker, the docs, the big-log anchors) simply gets
every signature, unpickled on first access and kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from psgdiag.kb.prefilter import literal_required
from psgdiag.model import EvidenceKind, FactTest, Gate, KnowledgeBase, Shape, Signature, Status
from psgdiag.pipeline.textview import MIN_ASCII_ANCHOR, compact
from psgdiag.record import replace


def gate_of(sig: Signature) -> Gate:
    """Return what a document must hold for any evidence of `sig` to hit."""
    always = False
    regexes: list[str] = []
    needles: list[str] = []
    fqids: list[tuple[str, str]] = []
    statuses: set[int] = set()
    facts: list[FactTest] = []
    compacts: list[tuple[str, str]] = []
    fuzzies: list[tuple[int, tuple[str, ...]]] = []
    messages: list[str] = []
    kinds = {ev.kind for ev in sig.evidence}
    for ev in sig.evidence:
        if ev.kind == EvidenceKind.REGEX:
            regexes.append(ev.pattern)
        elif ev.kind == EvidenceKind.TEXT:
            if ev.fuzzy:
                approximate = compact(ev.pattern)
                pieces = fuzzy_pieces(approximate, ev.fuzzy)
                if not pieces:
                    always = True
                    continue
                fuzzies.append((len(approximate), pieces))
            if not ev.needle:
                always = True
            elif ev.pattern.isascii():
                needles.append(ev.needle)
            else:
                # exact in the compact view, or the '?'-tolerant regex, which is tried only
                # when its longest literal piece is there (Matcher._text)
                tolerant = sum(ch.isascii() and ch.isalnum() for ch in ev.needle)
                piece = literal_required(ev.pattern) if tolerant >= MIN_ASCII_ANCHOR else ""
                compacts.append((ev.needle, piece))
        elif ev.kind == EvidenceKind.FQID:
            error_id = ev.pattern.split(",", 1)[0].strip()
            fqids.append((compact(ev.pattern), error_id.lower()))
        elif ev.kind == EvidenceKind.HTTP_STATUS:
            statuses.update(ev.statuses)
        elif ev.kind == EvidenceKind.FACT and ev.fact is not None:
            facts.append(ev.fact)
        elif ev.kind == EvidenceKind.MESSAGE:
            messages.append(ev.pattern)
        elif ev.kind not in (EvidenceKind.MSG_KEY, EvidenceKind.EXCEPTION, EvidenceKind.INCIDENT):
            always = True  # a kind this gate does not know: never skip it
    return Gate(
        sig_id=sig.id,
        deprecated=sig.status == Status.DEPRECATED,
        always=always,
        regexes=tuple(regexes),
        needles=tuple(needles),
        fqids=tuple(fqids),
        statuses=tuple(sorted(statuses)),
        facts=tuple(facts),
        has_msg_key=EvidenceKind.MSG_KEY in kinds,
        has_exception=EvidenceKind.EXCEPTION in kinds,
        has_incident=EvidenceKind.INCIDENT in kinds,
        compacts=tuple(compacts),
        fuzzies=tuple(fuzzies),
        messages=tuple(messages),
    )


def fuzzy_pieces(needle: str, cutoff: int) -> tuple[str, ...]:
    """Split a fuzzy needle so that any match scoring `cutoff` or more holds one piece verbatim.

    rapidfuzz's partial ratio is 100 * (1 - indel / (len(needle) + len(window))), the window at
    most as long as the needle, so a match allows at most floor((100 - cutoff) * 2 * len / 100)
    insertions and deletions; each touches at most one piece of a contiguous split, so with one
    piece more than that, one piece is untouched. () when the pieces would be empty.
    """
    edits = (100 - cutoff) * 2 * len(needle) // 100
    count = edits + 1
    if count > len(needle):
        return ()
    size = len(needle) // count
    cuts = [i * size for i in range(count)] + [len(needle)]
    return tuple(needle[cuts[i] : cuts[i + 1]] for i in range(count))


class LazySignatures(Sequence[Signature]):
    """Signatures kept as pickled blobs, each unpickled on first access."""

    __slots__ = ("_blobs", "_loaded")

    def __init__(self, blobs: tuple[bytes, ...]) -> None:
        self._blobs = blobs
        self._loaded: list[Signature | None] = [None] * len(blobs)

    @classmethod
    def of(cls, signatures: Sequence[Signature]) -> LazySignatures:
        """Pack signatures into blobs."""
        import pickle

        return cls(tuple(pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL) for s in signatures))

    def __len__(self) -> int:
        return len(self._blobs)

    def _load(self, i: int) -> Signature:
        sig = self._loaded[i]
        if sig is None:
            import _pickle  # the C unpickler, as psgdiag.snapshot

            sig = _pickle.loads(self._blobs[i])
            self._loaded[i] = sig
        return sig

    @overload
    def __getitem__(self, i: int) -> Signature: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Signature]: ...

    def __getitem__(self, i: int | slice) -> Signature | Sequence[Signature]:
        if isinstance(i, slice):
            return tuple(self._load(j) for j in range(*i.indices(len(self))))
        return self._load(range(len(self))[i])

    def __iter__(self) -> Iterator[Signature]:
        return (self._load(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazySignatures({len(self)} signatures)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazySignatures, (self._blobs,))


class LazyShapes(Sequence[Shape]):
    """The catalogued errors' record shapes as one pickled blob, unpickled on first access.

    Only a record whose text was not recognised needs them (a paste in a language nobody
    catalogued); unpickling 600 shapes on every run cost ~2.5 ms. Truth tests never unpickle.
    """

    __slots__ = ("_blob", "_loaded")

    def __init__(self, blob: bytes) -> None:
        self._blob = blob
        self._loaded: tuple[Shape, ...] | None = None

    @classmethod
    def of(cls, shapes: Sequence[Shape]) -> LazyShapes:
        """Pack shapes into one blob."""
        import pickle

        return cls(pickle.dumps(tuple(shapes), protocol=pickle.HIGHEST_PROTOCOL))

    def _all(self) -> tuple[Shape, ...]:
        if self._loaded is None:
            import _pickle  # the C unpickler, as psgdiag.snapshot

            self._loaded = _pickle.loads(self._blob)
        return self._loaded

    def __bool__(self) -> bool:
        return len(self._blob) > 0

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, i: int) -> Shape: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Shape]: ...

    def __getitem__(self, i: int | slice) -> Shape | Sequence[Shape]:
        return self._all()[i]

    def __iter__(self) -> Iterator[Shape]:
        return iter(self._all())


def make_lazy(kb: KnowledgeBase) -> KnowledgeBase:
    """Return the same knowledge base with gated, lazily loaded signatures and shapes."""
    sigs = tuple(kb.signatures)
    return replace(
        kb,
        signatures=LazySignatures.of(sigs),
        gates=tuple(gate_of(s) for s in sigs),
        shapes=LazyShapes.of(kb.shapes) if kb.shapes else kb.shapes,
    )
