"""Evidence matchers: (Document, Facts, Signature) -> hits with original line numbers.

Each evidence kind has one small matcher; text kinds read the views of psgdiag.textview.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache

from psgdiag import regexcode
from psgdiag.kb.prefilter import literal_required, phrase_index, present_phrases
from psgdiag.kb.regex import cached_regex
from psgdiag.model import (
    Evidence,
    EvidenceKind,
    Facts,
    Gate,
    Hit,
    Incident,
    Said,
    Signature,
    Strength,
)
from psgdiag.pipeline.facts import eval_fact
from psgdiag.pipeline.textview import (
    MIN_ASCII_ANCHOR,
    TextIndex,
    compact,
    folded_literal,
    literal_regex,
)

RECORD_TAIL = 15  # lines an error record's position, CategoryInfo and FQID lines may follow it
_WEAKER = {
    Strength.STRONG: Strength.MEDIUM,
    Strength.MEDIUM: Strength.WEAK,
    Strength.WEAK: Strength.WEAK,
    Strength.CONTEXT: Strength.CONTEXT,
    Strength.AGAINST: Strength.AGAINST,
}
_ERROR_ID = regexcode.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*){2,}$")


@lru_cache(maxsize=4096)
def _error_id_rx(error_id: str) -> re.Pattern[str] | None:
    """A word-bounded search for a distinctive CamelCase error id, or None for generic ones."""
    if len(error_id) < 14 or not _ERROR_ID.match(error_id):
        return None
    return regexcode.compile(
        r"(?<![A-Za-z0-9])" + re.escape(error_id) + r"(?![A-Za-z0-9])", re.IGNORECASE
    )


@lru_cache(maxsize=8192)
def _compact_cached(pattern: str) -> str:
    return compact(pattern)


class Matcher:
    """Runs every evidence kind against one indexed document."""

    def __init__(
        self,
        index: TextIndex,
        facts: Facts,
        locales: tuple[str, ...] = (),
        incident_for: Callable[[str], Incident | None] | None = None,
        required: Mapping[str, tuple[Collection[str], ...]] | None = None,
        phrases: Mapping[str, tuple[str, ...]] | None = None,
        said: tuple[Said, ...] = (),
    ) -> None:
        self.said = said
        # each recognised message by its id and, for a versioned wording (Id@1.6.5), its base id
        self._said_ids = frozenset(
            name for s in said for name in (s.message, s.message.split("@", 1)[0])
        )
        self.index = index
        self.facts = facts
        self.locales = locales
        self.incident_for = incident_for
        # regex -> phrase sets; every match holds one phrase of each (psgdiag.anchors)
        self.required = required or {}
        self._lower_spaced: str | None = None
        self._phrases = phrases
        self._present: frozenset[str] | None = None
        self._fqids = tuple((compact(fq.value), fq.line) for fq in facts.fqids)
        # one answer per pattern and document: signatures share regexes (context, prose)
        self._absent_seen: dict[str, bool] = {}

    def _low(self) -> str:
        """The spaced view in lower case (made once, on first need)."""
        if self._lower_spaced is None:
            self._lower_spaced = self.index.spaced.lower()
        return self._lower_spaced

    def _present_set(self) -> frozenset[str]:
        """The phrases of the requirement table found in the document (looked up once)."""
        if self._present is None:
            index = self._phrases if self._phrases is not None else phrase_index(self.required)
            self._present = present_phrases(self._low(), index)
        return self._present

    def _fqid_line(self, want: str) -> int | None:
        """Line of the first FullyQualifiedErrorId that is (or starts with) `want`, compacted."""
        for have, line in self._fqids:
            if (
                have == want
                or have.startswith(want + ",")
                or ("," in want and have.startswith(want))
            ):
                return line
        return None

    def _absent(self, pattern: str) -> bool:
        """True when some phrase set a match of `pattern` needs has no phrase in the document."""
        seen = self._absent_seen.get(pattern)
        if seen is None:
            needs = self.required.get(pattern) or ()
            present = self._present_set() if needs else frozenset()
            seen = any(present.isdisjoint(need) for need in needs)
            self._absent_seen[pattern] = seen
        return seen

    def may_hit(self, gate: Gate) -> bool:
        """False only when no evidence of the gated signature can hit (psgdiag.kb.snapshot).

        Every test here is implied by the matcher's own test for that evidence kind.
        """
        if gate.deprecated:
            return False
        if gate.always or any(not self._absent(pattern) for pattern in gate.regexes):
            return True
        folded, whole = self.index.folded, self.index.compact
        if any(needle in folded for needle in gate.needles):
            return True
        if any(exact in whole or (piece and piece in whole) for exact, piece in gate.compacts):
            return True
        for length, pieces in gate.fuzzies:
            # a text shorter than the needle swaps the roles in partial_ratio: no precondition
            if len(whole) < length or any(piece in whole for piece in pieces):
                return True
        low = self._low()
        if any(err in low or self._fqid_line(want) is not None for want, err in gate.fqids):
            return True
        statuses = gate.statuses
        if statuses and any(code in statuses for code, _line in self.facts.http_statuses):
            return True
        if (gate.has_msg_key and self.facts.msg_keys) or (
            gate.has_exception and self.facts.exceptions
        ):
            return True
        if any(msg in self._said_ids for msg in gate.messages):
            return True
        if any(eval_fact(test, self.facts, self.locales)[0] for test in gate.facts):
            return True
        return bool(
            gate.has_incident and self.incident_for is not None and self.incident_for(gate.sig_id)
        )

    def _hit(self, ev: Evidence, first: int, last: int, groups: dict[str, str]) -> Hit:
        clean = tuple(sorted((k, v) for k, v in groups.items() if v))
        return Hit(ev.name, ev.strength, ev.kind, first, last, self.index.quote(first, last), clean)

    def _text(self, ev: Evidence) -> Hit | None:
        idx = self.index
        if ev.pattern.isascii():
            # Plain substring search on the folded view: no regex to compile per run.
            needle = ev.needle or folded_literal(ev.pattern)
            pos = idx.folded.find(needle)
            if pos >= 0:
                end = pos + len(needle)
                first, last = idx.lines_for(idx.folded_starts, pos, end)
                if not ev.stream or idx.stream_at(first) == ev.stream:
                    return self._hit(ev, first, last, {})
        else:
            # Exact (Unicode) first; the '?'-tolerant form only when enough ASCII anchors it,
            # or an all-Japanese phrase would match any run of question marks.
            exact = ev.needle or compact(ev.pattern)
            pos = idx.compact.find(exact)
            if pos >= 0:
                first, last = idx.lines_for(idx.compact_starts, pos, pos + len(exact))
                if not ev.stream or idx.stream_at(first) == ev.stream:
                    return self._hit(ev, first, last, {})
            m = None
            if (
                sum(ch.isascii() and ch.isalnum() for ch in exact) >= MIN_ASCII_ANCHOR
                and literal_required(ev.pattern) in idx.compact  # else no need to compile
            ):
                m = literal_regex(ev.pattern).search(idx.compact)
            if m:
                first, last = idx.lines_for(idx.compact_starts, m.start(), m.end())
                if not ev.stream or idx.stream_at(first) == ev.stream:
                    return self._hit(ev, first, last, {})
        if ev.fuzzy:
            return self._fuzzy(ev)
        return None

    def _fuzzy(self, ev: Evidence) -> Hit | None:
        from rapidfuzz import fuzz

        idx = self.index
        needle = compact(ev.pattern)
        res = fuzz.partial_ratio_alignment(needle, idx.compact, score_cutoff=ev.fuzzy)
        if res is None or res.score < ev.fuzzy:
            return None
        first, last = idx.lines_for(idx.compact_starts, res.dest_start, res.dest_end)
        return self._hit(ev, first, last, {})

    def _regex(self, ev: Evidence) -> Hit | None:
        idx = self.index
        if self._absent(ev.pattern):
            return None
        m = cached_regex(ev.pattern).search(idx.spaced_bytes)
        if not m:
            return None
        first, last = idx.lines_for(idx.spaced_byte_starts, m.start(), m.end())
        if ev.stream and idx.stream_at(first) != ev.stream:
            return None
        groups = {
            k.decode() if isinstance(k, bytes) else k: v.decode("utf-8", "replace") if v else ""
            for k, v in m.groupdict().items()
        }
        return self._hit(ev, first, last, groups)

    def _fqid(self, ev: Evidence) -> Hit | None:
        line = self._fqid_line(_compact_cached(ev.pattern))
        if line is not None:
            return self._hit(ev, line, line, {})
        return self._error_id_in_text(ev)

    def _error_id_in_text(self, ev: Evidence) -> Hit | None:
        """An error id quoted outside a FullyQualifiedErrorId field (a ticket, a JSON log).

        Counts one strength level lower: the surrounding record is not there to confirm it.
        """
        if ev.strength in (Strength.CONTEXT, Strength.AGAINST):
            return None  # discriminators (excludes) need the real field, not a mention
        error_id = ev.pattern.split(",", 1)[0].strip()
        if error_id.lower() not in self._low():
            return None  # absent: no need to compile its regex
        rx = _error_id_rx(error_id)
        if rx is None:
            return None
        m = rx.search(self.index.spaced)
        if not m:
            return None
        first, last = self.index.lines_for(self.index.spaced_starts, m.start(), m.end())
        hit = self._hit(ev, first, last, {})
        return Hit(hit.evidence, _WEAKER[ev.strength], "fqid-text", first, last, hit.text)

    def _msg_key(self, ev: Evidence) -> Hit | None:
        for mk in self.facts.msg_keys:
            if mk.value.lower() == ev.pattern.lower():
                return self._hit(ev, mk.line, mk.line, {})
        return None

    def _http(self, ev: Evidence) -> Hit | None:
        for code, line in self.facts.http_statuses:
            if code in ev.statuses:
                return self._hit(ev, line, line, {"http_status": str(code)})
        return None

    def _exception(self, ev: Evidence) -> Hit | None:
        want = ev.pattern.lower()
        for exc in self.facts.exceptions:
            have = exc.value.lower()
            if have == want or have.endswith("." + want):
                return self._hit(ev, exc.line, exc.line, {})
        # An error record's CategoryInfo names the type too, short, in any console language.
        for rec in self.facts.records:
            have = rec.exception.lower()
            if have and (have == want or have.endswith("." + want)):
                return self._hit(ev, rec.line, rec.line_end or rec.line, {})
        return None

    def _fact(self, ev: Evidence) -> Hit | None:
        assert ev.fact is not None
        ok, line = eval_fact(ev.fact, self.facts, self.locales)
        if not ok:
            return None
        if line:
            return self._hit(ev, line, line, {})
        return Hit(ev.name, ev.strength, ev.kind, 0, 0, f"fact: {ev.pattern}")

    def _message(self, ev: Evidence) -> Hit | None:
        """A recognised catalogued message (the best-recognised copy whose slots agree)."""
        best: Said | None = None
        agreeing: list[Said] = []
        refuted: list[int] = []
        for s in self.said:
            if s.message != ev.pattern and s.message.split("@", 1)[0] != ev.pattern:
                continue  # a message named without "@" is any of its wordings
            if _slots_agree(ev.slots, s.slots):
                agreeing.append(s)
            else:
                refuted.append(s.line_start)
        for said in agreeing:
            if ev.slots and not said.slots and refuted and self._refuted_nearby(said, refuted):
                continue  # its FQID or shape, but the same record's text names another value
            if best is None or _HOW_RANK[said.how] < _HOW_RANK[best.how]:
                best = said
        if best is None:
            return None
        strength = ev.strength if best.how in _EXACT else _WEAKER[ev.strength]
        text = self.index.quote(best.line_start, best.line_end) if best.line_start else ""
        return Hit(
            ev.name,
            strength,
            f"message-{best.how}",
            best.line_start,
            best.line_end,
            text,
            tuple((f"slot_{k}", v) for k, v in best.slots),
        )

    def _refuted_nearby(self, said: Said, refuted: list[int]) -> bool:
        """Whether a copy whose slot values disagree belongs to the same error record as `said`.

        A record's text (its first line) and its FQID line are recognised as separate copies; the
        FQID copy has no slot values, so it must not vouch for a value its own text contradicts.
        The record runs from its message to the next record, at most RECORD_TAIL lines on.
        """
        starts = sorted({r.line for r in self.facts.records})
        for i, start in enumerate(starts):
            end = starts[i + 1] - 1 if i + 1 < len(starts) else start + RECORD_TAIL
            end = min(end, start + RECORD_TAIL)
            if start <= said.line_start <= end:
                return any(start <= line <= end for line in refuted)
        return False

    def _incident(self, ev: Evidence, sig: Signature) -> Hit | None:
        inc = self.incident_for(sig.id) if self.incident_for is not None else None
        if inc is None:
            return None
        return Hit(ev.name, ev.strength, ev.kind, 0, 0, f"inside incident {inc.id}")

    def evidence(self, ev: Evidence, sig: Signature) -> Hit | None:
        """Return the hit for one evidence entry, or None."""
        return _MATCHERS[ev.kind](self, ev, sig)

    def signature(self, sig: Signature) -> tuple[Hit, ...]:
        """Return every evidence hit of one signature, in evidence order.

        The evidence the signature requires is looked at first: when none of it hits, the cause
        can be neither diagnosed nor shown as a competitor (score.rank), so the rest is skipped
        (most of a small paste's regex compilations were for such signatures).
        """
        keys = {*sig.requires_any, *sig.requires_all}
        found: dict[int, Hit] = {}
        for i, ev in enumerate(sig.evidence):
            if ev.name in keys and (hit := self._evidence_hit(ev, sig)) is not None:
                found[i] = hit
        if keys and not found:
            return ()
        for i, ev in enumerate(sig.evidence):
            if ev.name not in keys and (hit := self._evidence_hit(ev, sig)) is not None:
                found[i] = hit
        return tuple(found[i] for i in sorted(found))

    def _evidence_hit(self, ev: Evidence, sig: Signature) -> Hit | None:
        # Most regexes of a large KB are settled by the phrase table alone: skip the call.
        if (
            ev.kind == EvidenceKind.REGEX
            and ev.pattern in self.required
            and self._absent(ev.pattern)
        ):
            return None
        return self.evidence(ev, sig)


#: One matcher per evidence kind (a kind without an entry fails loudly, at import of this table).
_MATCHERS: dict[EvidenceKind, Callable[[Matcher, Evidence, Signature], Hit | None]] = {
    EvidenceKind.TEXT: lambda m, ev, _sig: m._text(ev),
    EvidenceKind.REGEX: lambda m, ev, _sig: m._regex(ev),
    EvidenceKind.FQID: lambda m, ev, _sig: m._fqid(ev),
    EvidenceKind.MSG_KEY: lambda m, ev, _sig: m._msg_key(ev),
    EvidenceKind.HTTP_STATUS: lambda m, ev, _sig: m._http(ev),
    EvidenceKind.EXCEPTION: lambda m, ev, _sig: m._exception(ev),
    EvidenceKind.FACT: lambda m, ev, _sig: m._fact(ev),
    EvidenceKind.INCIDENT: lambda m, ev, sig: m._incident(ev, sig),
    EvidenceKind.MESSAGE: lambda m, ev, _sig: m._message(ev),
}
#: How a message was recognised, best first; the exact ways keep the evidence's strength.
_HOW_RANK = {
    "template": 0,
    "fqid": 1,
    "fqid-template": 2,
    "fuzzy": 3,
    "error-id": 4,
    "record": 5,
    "truncated": 6,  # the first sentence alone (psgdiag.kb.truncated)
}
_EXACT = frozenset({"template", "fqid", "fqid-template", "fuzzy", "record"})


def _slots_agree(wanted: tuple[tuple[str, str], ...], seen: tuple[tuple[str, str], ...]) -> bool:
    """Slot conditions hold for every slot the recognised copy has (others cannot be told)."""
    values = dict(seen)
    for name, want in wanted:
        have = values.get(name)
        if have is None:
            continue
        if want.startswith("~"):
            if cached_regex(want[1:]).search(have.encode("utf-8")) is None:
                return False
        elif compact(want) != compact(have):
            return False
    return True


assert set(_MATCHERS) == set(EvidenceKind), "every evidence kind needs a matcher"
