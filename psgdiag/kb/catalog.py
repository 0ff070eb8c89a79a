"""The message catalog: every message the install stack prints, keyed by its identity.

`data/messages/<component>.toml` holds one `[[message]]` per message (its id, the error ids and
FullyQualifiedErrorIds raised with it, the exception type, the English template with `{slot}`
holes, where the template comes from); `data/messages/locale/<locale>.toml` holds translations
seen in real output (`[[translation]] message, text, source`). Signatures name messages by id
(`message = "PackageManagement.NoMatchFoundForProvider"`), so a translation added once serves
every signature. Each text is compiled here into a compact-view pattern for recognition
(psgdiag.pipeline.recognise); the knowledge-base snapshot keeps the ones its signatures name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from psgdiag import regexcode
from psgdiag.cache import data_toml
from psgdiag.kb.problems import Problem, Problems
from psgdiag.model import Message, MessageText, Shape, Translation
from psgdiag.pipeline.skeleton import skeleton
from psgdiag.pipeline.textview import compact, fold, literal_pattern
from psgdiag.record import record, replace

COMPONENTS = ("powershellget", "packagemanagement", "nugetprovider", "psresourceget", "dotnet")
FILES = (*COMPONENTS, "engine")
STREAMS = ("error", "warning", "verbose", "debug", "prompt", "progress", "inner")
MESSAGE_KEYS = frozenset(
    {
        "id",
        "component",
        "key",
        "versions",
        "error_ids",
        "fqids",
        "category",
        "exception",
        "hresult",
        "web_status",
        "stream",
        "template",
        "source",
    }
)
TRANSLATION_KEYS = frozenset({"message", "text", "source"})
SLOT = regexcode.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DOUBLE = frozenset('"\u201c\u201d\u201e\u00ab\u00bb')  # double quotes, in any style
_NOT_DOUBLE = "[^" + "".join(sorted(_DOUBLE)) + "]"  # a slot value between them holds none
MAX_SLOT = 300  # compact characters a slot value may span (checked by the recogniser)
MIN_LITERAL = 12  # compact literal characters a text needs to be searched for at all
MIN_PIECE = 12  # compact characters a piece needs to be matched approximately
SHORT_TEXT = 24  # below this many compact characters, a slot-free text must stand as whole words
_WORD = regexcode.compile(r"[a-z]{4,}")
_QUOTES = "'\"\u2018\u2019\u201c\u201d\u201e\u00ab\u00bb`\u00b4"


@record
class Catalog:
    """Every catalogued message by id."""

    messages: dict[str, Message]
    files: tuple[str, ...]  # data files read, for problems and cache keys

    def get(self, message_id: str) -> Message | None:
        """The message with this id, or None."""
        return self.messages.get(message_id)

    def wordings(self, message_id: str) -> list[Message]:
        """The message with this id and, unless the id names one (Id@1.6.5), its other wordings."""
        if "@" in message_id:
            found = self.messages.get(message_id)
            return [found] if found is not None else []
        return [
            m for k, m in self.messages.items() if k == message_id or k.startswith(message_id + "@")
        ]


def data_path(name: str) -> str:
    """Path of a catalog data file (for problems and cache keys)."""
    return str(resources.files("psgdiag.data").joinpath(f"messages/{name}.toml"))


def locale_files() -> tuple[str, ...]:
    """The locale names that have a translation file."""
    folder = resources.files("psgdiag.data").joinpath("messages/locale")
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _message(raw: Any, path: str, probs: Problems) -> Message | None:
    if not isinstance(raw, dict):
        probs.add(path, "must be a table")
        return None
    before = len(probs.items)
    for key in raw:
        if key not in MESSAGE_KEYS:
            probs.add(f"{path}.{key}", f"unknown key `{key}`")
    for key in ("id", "component", "key", "template", "stream", "source"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            probs.add(f"{path}.{key}", "must be a non-empty string")
    for key in ("versions", "error_ids", "fqids"):
        if key in raw and not (
            isinstance(raw[key], list) and all(isinstance(v, str) for v in raw[key])
        ):
            probs.add(f"{path}.{key}", "must be a list of strings")
    if raw.get("stream") not in STREAMS:
        probs.add(f"{path}.stream", f"must be one of: {', '.join(STREAMS)}")
    msg_id = raw.get("id")
    if isinstance(msg_id, str) and not msg_id.startswith(f"{raw.get('component')}."):
        probs.add(f"{path}.id", "must start with the component and a dot")
    if len(probs.items) > before:
        return None
    return Message(
        id=raw["id"],
        component=raw["component"],
        key=raw["key"],
        template=raw["template"],
        stream=raw["stream"],
        source=raw["source"],
        versions=_strs(raw.get("versions")),
        error_ids=_strs(raw.get("error_ids")),
        fqids=_strs(raw.get("fqids")),
        category=str(raw.get("category", "")),
        exception=str(raw.get("exception", "")),
    )


def read_catalog() -> tuple[Catalog, list[Problem]]:
    """Read and validate every catalog file: the catalog and its problems (file, key, message)."""
    problems: list[Problem] = []
    messages: dict[str, Message] = {}
    for name in FILES:
        probs = Problems(data_path(name))
        entries = data_toml(f"messages/{name}.toml").get("message", [])
        for i, raw in enumerate(entries):
            msg = _message(raw, f"message[{i}]", probs)
            if msg is None:
                continue
            if msg.id in messages:
                probs.add(f"message[{i}].id", f"{msg.id!r} is defined twice")
                continue
            messages[msg.id] = msg
        problems.extend(probs.items)
    found: dict[str, list[Translation]] = {}
    locales = locale_files()
    for loc in locales:
        probs = Problems(data_path(f"locale/{loc}"))
        for i, raw in enumerate(data_toml(f"messages/locale/{loc}.toml").get("translation", [])):
            path = f"translation[{i}]"
            if not isinstance(raw, dict) or set(raw) - TRANSLATION_KEYS:
                probs.add(path, f"must be a table of {', '.join(sorted(TRANSLATION_KEYS))}")
                continue
            target, text = raw.get("message"), raw.get("text")
            if target not in messages:
                probs.add(f"{path}.message", f"{target!r} is not a catalogued message")
            elif not isinstance(text, str) or not text.strip():
                probs.add(f"{path}.text", "must be a non-empty string")
            elif not str(raw.get("source", "")).strip():
                probs.add(f"{path}.source", "a translation needs the real output it was seen in")
            else:
                found.setdefault(target, []).append(Translation(loc, text, raw["source"]))
        problems.extend(probs.items)
    for msg_id, translations in found.items():
        old = messages[msg_id]
        messages[msg_id] = Message(**{**_fields(old), "translations": tuple(translations)})
    files = tuple(data_path(n) for n in FILES) + tuple(data_path(f"locale/{x}") for x in locales)
    return Catalog(messages, files), problems


def _fields(msg: Message) -> dict[str, Any]:
    return {name: getattr(msg, name) for name in Message.__annotations__}


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog; problems in it are reported by `psgdiag signatures check`."""
    return read_catalog()[0]


def compile_texts(msg: Message, first: str | None = None) -> tuple[MessageText, ...]:
    """Each searchable text of a message: the template, every translation, then `first` (the
    template's first sentence alone, when psgdiag.kb.truncated finds it tells the message)."""
    out = []
    for locale, text in (("en", msg.template), *((t.locale, t.text) for t in msg.translations)):
        compiled = compile_text(msg.id, locale, text)
        if compiled is not None:
            out.append(compiled)
    if first is not None and (cut := compile_text(msg.id, "en", first)) is not None:
        out.append(replace(cut, truncated=True))
    return tuple(out)


def compile_text(message_id: str, locale: str, text: str) -> MessageText | None:
    """A text as a compact-view pattern with slot groups; None when too little is literal."""
    parts = SLOT.split(text)
    literals = [compact(p) for p in parts[0::2]]
    names = parts[1::2]
    if sum(len(p) for p in literals) < MIN_LITERAL:
        return None  # a bare "{message}": recognised by its identity only
    # Slots at either end are left out: nothing bounds them.
    first = next(i for i, p in enumerate(literals) if p)
    last = max(i for i, p in enumerate(literals) if p)
    regex: list[str] = []
    slots: list[str] = []
    for i in range(first, last + 1):
        if i > first:
            # a value between double quotes holds none (it never spans into the next message)
            quoted = literals[i - 1][-1:] in _DOUBLE and literals[i][:1] in _DOUBLE
            value = _NOT_DOUBLE if quoted else "."
            # unbounded here, bounded by the recogniser: RE2 builds a bounded repeat of a
            # UTF-8 character as that many copies (milliseconds per text, on every run)
            regex.append(f"({value}*?)")
            slots.append(names[i - 1])
        regex.append(literal_pattern(literals[i], loose_quotes=True))
    anchor, folded = _anchor(literals)
    pieces = tuple(p for p in literals if len(_unquoted(p)) >= MIN_PIECE)
    # folded (package/module, source/repository), as the document's words are
    words = frozenset(fold(w) for p in parts[0::2] for w in _WORD.findall(p.lower()))
    # "Install Package" (a prompt's caption) is also the middle of "[Install-PackageProvider]".
    short = not names and sum(len(p) for p in literals) < SHORT_TEXT and text.isascii()
    return MessageText(
        message_id,
        locale,
        "".join(regex),
        tuple(slots),
        anchor,
        folded,
        pieces,
        words,
        text if short else "",
        _runs(literals),
        rewritten if (rewritten := tuple(fold(p) for p in pieces)) != pieces else (),
    )


def _unquoted(piece: str) -> str:
    return piece.strip(_QUOTES)


def _between_quotes(literals: Iterable[str]) -> Iterator[str]:
    """The literal text between quote characters (which another UI language may swap)."""
    for piece in literals:
        yield from re.split(f"[{re.escape(_QUOTES)}]", piece)


def _ascii_runs(literals: Iterable[str]) -> Iterator[str]:
    """The ASCII runs of the literals, between quotes and other scripts."""
    for run in _between_quotes(literals):
        yield from (r for r in re.split(r"[^\x00-\x7f]+", run) if r)


def _anchor(literals: Sequence[str]) -> tuple[str, bool]:
    """A run every match holds verbatim: (folded ASCII run, True) or (compact run, False).

    The longest ASCII run when there is a fair one (a console that shows other scripts as '?'
    still prints it); else the longest run of another script, found only where it is intact.
    """
    best = max((fold(r) for r in _ascii_runs(literals)), key=len, default="")
    other_runs = [
        r for run in _between_quotes(literals) for r in re.split(r"[\x00-\x7f]+", run) if r
    ]
    if len(best) >= 6 or not other_runs:
        return best, True
    return max(other_runs, key=len), False


def _runs(literals: Sequence[str]) -> tuple[str, ...]:
    """Every ASCII run of 6+ characters that holds none of the words PowerShellGet rewrites: a
    match holds each verbatim in the compact view (where a console wrap, even mid-word, leaves
    no trace), so one missing rules the text out before its regex is compiled."""
    runs = {r for r in _ascii_runs(literals) if len(r) >= 6 and fold(r) == r}
    return tuple(sorted(runs, key=len, reverse=True))


def where_key(name: str) -> str:
    """A command as record shapes compare it: Install-Module and ...Cmdlets.InstallModule alike."""
    return name.rsplit(".", 1)[-1].replace("-", "").strip().lower()


def shapes(catalog: Catalog) -> tuple[Shape, ...]:
    """The record shape of every catalogued error that names the commands raising it."""
    out = []
    for msg in catalog.messages.values():
        wheres = tuple(sorted({where_key(f.rsplit(",", 1)[-1]) for f in msg.fqids if "," in f}))
        if msg.stream != "error" or not wheres:
            continue
        sk = skeleton(msg.template, template=True)
        exception = msg.exception.rsplit(".", 1)[-1].lower()
        out.append(
            Shape(
                msg.id,
                msg.category.lower(),
                exception,
                wheres,
                sk.tokens,
                sk.quotes,
                error_ids=msg.error_ids,
                words=sk.words,
            )
        )
    return tuple(out)
