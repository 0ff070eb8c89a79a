"""What did the program say? Document -> the catalogued messages it holds, in any known language.

A message is recognised
- by identity: a FullyQualifiedErrorId whose error id the catalog knows (language-neutral; an
  FQID that is itself an unformatted template is recognised by its placeholders and its cmdlet
  class), or a distinctive error id written elsewhere in the text (a ticket, a JSON log);
- by its text: the English template or a catalogued translation, with slots as wildcards,
  console wraps, package/module wording and quote styles tolerated (the compact view, RE2);
- approximately: a retyped or truncated copy whose literal pieces each score high against the
  text (rapidfuzz), tried only for messages most of whose words the document holds.
Only the messages the knowledge base's signatures name are looked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from psgdiag.kb.catalog import MAX_SLOT, where_key
from psgdiag.kb.regex import cached_regex
from psgdiag.model import Facts, Message, MessageText, Said, Shape
from psgdiag.pipeline.skeleton import Skeleton, quoted_values, skeleton
from psgdiag.pipeline.textview import TextIndex, compact, fold

FUZZY_CUTOFF = 88  # rapidfuzz partial ratio each literal piece must reach
FUZZY_WORDS = 0.5  # share of a text's words the document must hold to try it approximately
MAX_TIED = 3  # record shapes: at most this many equally fitting messages are all taken
_WHOLE_SLOT = re.compile(r"\{\w+\}")
NEAR_LENGTH = 1.35  # a translation's word count within this ratio of the template's
LENGTH_GAP = 1.4  # ... and every other tied template's this many times further off
MAX_PHRASE_TRIES = 20  # copies of a short text looked at before giving up
FUZZY_MAX_CHARS = 2_000_000  # a retyped paste is short; a log this long was never typed by hand
FUZZY_MIN = 24  # compact literal characters a text needs to be matched approximately
_ERROR_ID = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*){2,}$")
_WORD = re.compile(r"[a-z]{4,}")
_PLACEHOLDER_SKELETON = re.compile(r"[^\W\d_]+")


def recognise(
    index: TextIndex,
    facts: Facts,
    messages: Mapping[str, Message],
    texts: Iterable[MessageText],
    shapes: Sequence[Shape] = (),
) -> tuple[Said, ...]:
    """Every recognised message: by identity, by text, approximately, by record shape."""
    said = list(_by_identity(index, facts, messages))
    found_text: set[str] = set()
    pending: list[MessageText] = []
    for text in texts:
        hit = _by_text(index, text)
        if hit is not None:
            said.append(hit)
            found_text.add(text.message)
        elif text.locale == "en" and text.pieces:
            pending.append(text)
    pending = [t for t in pending if t.message not in found_text]
    if pending and len(index.compact) <= FUZZY_MAX_CHARS:
        said.extend(_approximately(index, pending))
    if shapes:
        said.extend(_by_record_shape(facts, messages, shapes, said))
    return tuple(said)


def _by_record_shape(
    facts: Facts, messages: Mapping[str, Message], shapes: Sequence[Shape], said: list[Said]
) -> list[Said]:
    """Records whose text was not recognised: which catalogued error their shape and skeleton fit.

    The candidates are the errors raised by the record's command with its category and exception
    type (any category when CategoryInfo is missing); the one whose template's language-neutral
    tokens the record's text holds best, clearly ahead of the others, is taken.
    """
    out: list[Said] = []
    known_ids: set[str] | None = None  # built on first need: most records are recognised
    for rec in facts.records:
        last = rec.line_end or rec.line
        if any(s.line_start <= last and rec.line <= s.line_end for s in said if s.line_start):
            continue  # this record's text is already recognised
        if known_ids is None:
            known_ids = {e.lower() for s in shapes for e in s.error_ids}
        if rec.fqid.split(",", 1)[0].strip().lower() in known_ids:
            continue  # its FQID says which message it is
        named = (rec.cmdlet, rec.activity, rec.fqid.rsplit(",", 1)[-1])
        wheres = {where_key(w) for w in named if w}
        category, exception = rec.category.lower(), rec.exception.rsplit(".", 1)[-1].lower()
        by_command = [
            s
            for s in shapes
            if wheres.intersection(s.wheres) and (not category or s.category in ("", category))
        ]
        group = [s for s in by_command if not exception or s.exception in ("", exception)]
        printed = skeleton(rec.message)
        found = _best_shape(group, printed, bool(category and exception))
        if not found and len(group) < len(by_command):
            # Releases raise one message with different exception types (Write-Error in one,
            # a thrown InvalidOperationException in another): the command and category remain.
            found = _best_shape(by_command, printed, False)
        for best in found:
            if best in messages:
                slots = _one_quoted_slot(messages[best].template, rec.message)
                out.append(Said(best, rec.line, last, "record", slots=slots))
    return out


def _one_quoted_slot(template: str, printed: str) -> tuple[tuple[str, str], ...]:
    """A template with one quoted value, all of it a slot, and a text with one quoted value:
    that value fills the slot in any language (a translation keeps the quotes around it)."""
    names, values = quoted_values(template), quoted_values(printed)
    if len(names) != 1 or len(values) != 1 or not _WHOLE_SLOT.fullmatch(names[0]):
        return ()
    return ((names[0][1:-1], values[0]),) if values[0] else ()


def _best_shape(group: Sequence[Shape], printed: Skeleton, typed: bool) -> tuple[str, ...]:
    """The messages whose shape the printed skeleton fits clearly best (a small tie: all)."""
    scored = []
    for shape in group:
        found = len(shape.tokens & printed.tokens)
        share = found / len(shape.tokens) if shape.tokens else 0.0
        scored.append((found, share, shape.quotes == printed.quotes, shape.message, shape.words))
    if not scored:
        return ()
    scored.sort(reverse=True)
    found, share, quotes = scored[0][:3]
    tied = [s for s in scored if s[:3] == scored[0][:3]]
    near = _near_in_length([s[4] for s in tied], printed.words)
    best = tuple(s[3] for s, is_near in zip(tied, near, strict=True) if is_near or not any(near))
    if len({m.split("@")[0] for m in best}) > MAX_TIED:
        return ()  # too many messages fit equally: not told apart
    if found >= 2 and share >= 0.6:
        return best
    if found == 1 and share >= 0.99 and quotes and (typed or any(near)):
        return best
    if found == 0 and len(best) == len(scored) and quotes and typed:
        return best  # every error of this shape fits: there is little choice
    return ()


def _near_in_length(words: Sequence[int], printed: int) -> list[bool]:
    """Which tied templates are about as long as the printed text, when that sets them clearly
    apart from the rest (a translation keeps roughly the number of words); else none."""

    def ratio(n: int) -> float:
        return max(n, printed) / min(n, printed) if n and printed else float("inf")

    near = [ratio(n) <= NEAR_LENGTH for n in words]
    if len(near) == 1:
        return near  # the one best fit: its length agrees or not
    if all(near) or not any(near):
        return [False] * len(words)
    farthest_near = max(ratio(n) for n, ok in zip(words, near, strict=True) if ok)
    others = (ratio(n) for n, ok in zip(words, near, strict=True) if not ok)
    if not all(r >= farthest_near * LENGTH_GAP for r in others):
        return [False] * len(words)
    return near


@lru_cache(maxsize=512)
def _error_index(items: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for msg_id, error_ids in items:
        for error_id in error_ids:
            index.setdefault(error_id.lower(), []).append(msg_id)
    return {k: tuple(v) for k, v in index.items()}


def _skeleton(error_id: str) -> tuple[str, int]:
    """An unformatted template's placeholders and punctuation, and how many words it has."""
    words = _PLACEHOLDER_SKELETON.findall(error_id)
    return compact(_PLACEHOLDER_SKELETON.sub("", error_id)), len(words)


def _by_identity(index: TextIndex, facts: Facts, messages: Mapping[str, Message]) -> list[Said]:
    by_error = _error_index(tuple((m.id, m.error_ids) for m in messages.values()))
    templated = {
        (_skeleton(eid), m.id): m for m in messages.values() for eid in m.error_ids if "{0}" in eid
    }
    out: list[Said] = []
    seen: set[str] = set()
    for fq in facts.fqids:
        parts = [p.strip() for p in fq.value.split(",")]
        error_id, where = parts[0], compact(parts[-1]) if len(parts) > 1 else ""
        ids = list(by_error.get(error_id.lower(), ()))
        how = "fqid"
        if not ids and "{0}" in error_id and where:
            # retyped or mangled words around intact placeholders (a lost small word allowed)
            marks, words = _skeleton(error_id)
            ids = [
                mid for ((sk, count), mid) in templated if sk == marks and abs(count - words) <= 1
            ]
            how = "fqid-template"
        for msg_id in ids:
            msg = messages[msg_id]
            if where and msg.fqids and not any(compact(f).endswith(where) for f in msg.fqids):
                continue  # raised by another cmdlet than any that prints this message
            if msg_id not in seen:
                seen.add(msg_id)
                out.append(Said(msg_id, fq.line, fq.line, how))
    low = index.spaced.lower()
    for error_id, known in by_error.items():
        fresh = [i for i in known if i not in seen]
        if not fresh or error_id not in low:
            continue
        # the index is keyed in lower case; the CamelCase test needs the id as catalogued
        spelled = next(e for e in messages[known[0]].error_ids if e.lower() == error_id)
        rx = _error_id_rx(spelled)
        m = rx.search(index.spaced) if rx is not None else None
        if m is None:
            continue
        first, last = index.lines_for(index.spaced_starts, m.start(), m.end())
        for msg_id in fresh:
            seen.add(msg_id)
            out.append(Said(msg_id, first, last, "error-id"))
    return out


@lru_cache(maxsize=4096)
def _error_id_rx(error_id: str) -> re.Pattern[str] | None:
    """A word-bounded search for a distinctive CamelCase error id, or None for generic ones."""
    if len(error_id) < 14 or not _ERROR_ID.match(error_id):
        return None
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(error_id) + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _by_text(index: TextIndex, text: MessageText) -> Said | None:
    view = index.folded if text.folded else index.compact
    if not text.anchor or text.anchor not in view:
        return None
    if any(run not in index.compact for run in text.runs):
        return None  # a literal part is missing: the regex cannot match
    data, starts = index.compact_bytes()
    rx = cached_regex(text.regex)
    m = rx.search(data)
    for _ in range(MAX_PHRASE_TRIES):
        if m is None:
            return None
        if any(g is not None and _too_long(g) for g in m.groups()):
            m = rx.search(data, m.start() + 1)  # a slot spans too far: not one message
            continue
        first, last = index.lines_for(starts, m.start(), m.end())
        # "Install Package" inside "[Install-PackageProvider]" is not the prompt's caption
        if not text.phrase or _phrase_rx(text.phrase).search(index.quote(first, last)):
            break
        m = rx.search(data, m.end())
    else:
        return None
    slots = tuple(
        (name, _as_printed(index, value.decode("utf-8", "replace")))
        for name, value in zip(text.slots, m.groups(), strict=False)
        if value
    )
    return Said(text.message, first, last, "template", text.locale, slots)


def _too_long(value: bytes) -> bool:
    """A UTF-8 slot value longer than MAX_SLOT characters (one to four bytes each)."""
    if len(value) <= MAX_SLOT:
        return False
    return len(value) > 4 * MAX_SLOT or len(value.decode("utf-8", "replace")) > MAX_SLOT


@lru_cache(maxsize=1024)
def _phrase_rx(phrase: str) -> re.Pattern[str]:
    """A short text's words, in order, apart from the words around them."""
    words = re.findall(r"[A-Za-z0-9]+", phrase)
    body = r"[^A-Za-z0-9]+".join(map(re.escape, words))
    return re.compile(r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _as_printed(index: TextIndex, value: str) -> str:
    """A slot value found in the compact view, as the log prints it (case and spaces kept)."""
    if len(value) > 120:
        return value
    spaced = r"\s*".join(re.escape(ch) for ch in value)
    m = re.search(spaced, index.spaced, re.IGNORECASE)
    return m.group(0) if m else value


def _approximately(index: TextIndex, texts: list[MessageText]) -> list[Said]:
    words = frozenset(fold(w) for w in set(_WORD.findall(index.spaced.lower())))
    candidates = [
        t
        for t in texts
        if len(t.words) >= 3
        and sum(map(len, t.pieces)) >= FUZZY_MIN
        and len(t.words & words) >= FUZZY_WORDS * len(t.words)
    ]
    out: list[Said] = []
    done: set[str] = set()
    # As written, then folded on both sides: PowerShellGet prints PackageManagement's texts
    # rewritten ("Get-PackageSource" as "Get-PSRepository"), which the fold undoes; a typo
    # inside a folded word counts for more there, so the plain view goes first.
    views = (
        (index.compact, index.compact_starts, False),
        (index.folded, index.folded_starts, True),
    )
    for text in candidates:
        if text.message in done:
            continue
        for whole, starts, folded in views:
            if folded and all(fold(p) == p for p in text.pieces):
                break  # nothing of it is rewritten: the folded view cannot do better
            span = _aligned(text.pieces, whole, folded)
            if span is None:
                continue
            first, last = index.lines_for(starts, span[0], span[1])
            out.append(Said(text.message, first, last, "fuzzy", text.locale, (), span[2]))
            done.add(text.message)
            break
    return out


def _aligned(pieces: Sequence[str], whole: str, folded: bool) -> tuple[int, int, int] | None:
    """(start, end, worst score) of every piece found approximately close together, or None."""
    # Imported here: rapidfuzz costs start-up time, and most pastes need no approximate match.
    from rapidfuzz import fuzz

    spans = []
    for piece in pieces:
        res = fuzz.partial_ratio_alignment(
            fold(piece) if folded else piece, whole, score_cutoff=FUZZY_CUTOFF
        )
        if res is None:
            return None
        spans.append((res.dest_start, res.dest_end, res.score))
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    if hi - lo > 3 * sum(len(p) for p in pieces) + 600:
        return None  # the pieces are scattered: not one message
    return lo, hi, int(min(s[2] for s in spans))
