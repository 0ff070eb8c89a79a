"""Messages quoted only up to the end of their first sentence.

A ticket, a pull request or a screenshot often keeps just the first sentence of an error
("Unable to find repository 'PSGallery'." without "Use Get-PSRepository to see ..."). Such a
copy is recognised by that sentence alone when it still says which message it is, or which few:
a sentence that begins the templates of more than MAX_OWNERS messages, or that is another
message's whole text, is not used. A copy recognised so counts as a weaker clue than the whole
text (psgdiag.pipeline.match), and as each of the messages that begin with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from psgdiag import regexcode
from psgdiag.kb.catalog import load_catalog
from psgdiag.model import Message
from psgdiag.pipeline.textview import compact

MIN_SENTENCE = 24  # compact literal characters a first sentence needs to stand for its message
MAX_OWNERS = 3  # messages (not counting wordings of one) a first sentence may begin
_SENTENCE_END = regexcode.compile(r"[.!?。](?=\s+\S)")
_SLOT = regexcode.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def first_sentence(template: str) -> str | None:
    """The template's first sentence when more text follows it, else None."""
    m = _SENTENCE_END.search(template)
    return template[: m.end()] if m else None


def _key(text: str) -> str:
    return compact(_SLOT.sub("{}", text))


def unique_first_sentences(messages: Iterable[Message]) -> dict[str, str]:
    """Message id -> its template's first sentence, for sentences that tell the message apart.

    A sentence is kept when it is long enough, begins at most MAX_OWNERS messages' templates
    (wordings of one message, ids that differ after "@", count once) and is no message's whole
    text.
    """
    messages = list(messages)
    firsts = {m.id: s for m in messages if (s := first_sentence(m.template)) is not None}
    owners: Counter[str] = Counter()
    for sentence_key, _base in {(_key(s), m_id.split("@", 1)[0]) for m_id, s in firsts.items()}:
        owners[sentence_key] += 1
    whole = {_key(m.template) for m in messages}
    out: dict[str, str] = {}
    for msg_id, sentence in firsts.items():
        key = _key(sentence)
        literal = len(compact(_SLOT.sub("", sentence)))
        if literal >= MIN_SENTENCE and owners[key] <= MAX_OWNERS and key not in whole:
            out[msg_id] = sentence
    return out


@lru_cache(maxsize=1)
def catalog_first_sentences() -> dict[str, str]:
    """unique_first_sentences of the whole catalog, worked out once per run."""
    return unique_first_sentences(load_catalog().messages.values())
