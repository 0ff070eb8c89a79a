"""What did the program say? Document -> the catalogued messages it holds, in any known language.

A message is recognised
- by identity: a FullyQualifiedErrorId whose error id the catalog knows (language-neutral; an
  FQID that is itself an unformatted template is recognised by its placeholders and its cmdlet
  class), or a distinctive error id written elsewhere in the text (a ticket, a JSON log);
- by its text: the English template or a catalogued translation, with slots as wildcards,
  console wraps, package/module wording and quote styles tolerated (the compact view, RE2);
- approximately: a retyped or truncated copy (pipeline/approximate.py);
- by record shape: an error record in a language nobody catalogued (pipeline/byshape.py).
Only the messages the knowledge base's signatures name are looked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from psgdiag import regexcode
from psgdiag.kb.catalog import MAX_SLOT, compile_texts, load_catalog
from psgdiag.kb.catalog import shapes as catalog_shapes
from psgdiag.kb.regex import cached_regex
from psgdiag.kb.truncated import catalog_first_sentences
from psgdiag.model import Document, Facts, Message, MessageText, Said, Shape
from psgdiag.pipeline.approximate import approximately
from psgdiag.pipeline.byshape import by_record_shape
from psgdiag.pipeline.extract import extract_facts
from psgdiag.pipeline.textview import TextIndex, compact

MAX_PHRASE_TRIES = 20  # copies of a short text looked at before giving up
_ERROR_ID = regexcode.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*){2,}$")
_PLACEHOLDER_SKELETON = regexcode.compile(r"[^\W\d_]+")


def recognise_everything(doc: Document) -> tuple[Said, ...]:
    """Every catalogued message in a document, named by a signature or not (`messages scan`)."""
    messages, texts, shapes = _whole_catalog()
    return recognise(TextIndex.build(doc), extract_facts(doc), messages, texts, shapes)


@lru_cache(maxsize=1)
def _whole_catalog() -> tuple[Mapping[str, Message], tuple[MessageText, ...], tuple[Shape, ...]]:
    catalog = load_catalog()
    firsts = catalog_first_sentences()
    texts = tuple(t for m in catalog.messages.values() for t in compile_texts(m, firsts.get(m.id)))
    return catalog.messages, texts, catalog_shapes(catalog)


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
        if text.truncated and text.message in found_text:
            continue  # its whole text is there: the first sentence alone adds nothing
        hit = _by_text(index, text)
        if hit is not None:
            said.append(hit)
            if not text.truncated:  # a close copy of the whole text may still be found below
                found_text.add(text.message)
        elif text.locale == "en" and text.pieces and not text.truncated:
            pending.append(text)
    pending = [t for t in pending if t.message not in found_text]
    if pending:
        said.extend(approximately(index, pending))
    if shapes:
        said.extend(by_record_shape(facts, messages, shapes, said))
    return tuple(said)


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
    return regexcode.compile(
        r"(?<![A-Za-z0-9])" + re.escape(error_id) + r"(?![A-Za-z0-9])", re.IGNORECASE
    )


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
    how = "truncated" if text.truncated else "template"
    return Said(text.message, first, last, how, text.locale, slots)


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
    return regexcode.compile(r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _as_printed(index: TextIndex, value: str) -> str:
    """A slot value found in the compact view, as the log prints it (case and spaces kept)."""
    if len(value) > 120:
        return value
    spaced = r"\s*".join(re.escape(ch) for ch in value)
    m = re.search(spaced, index.spaced, re.IGNORECASE)
    return m.group(0) if m else value
