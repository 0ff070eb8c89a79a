"""Draft an experimental signature from a log no signature explains, and check it for collisions.

The draft takes the log's most distinctive lines (its error-record messages, else its
error-looking lines), turns their variable parts (names, versions, paths, GUIDs, URLs, numbers,
times) into bounded RE2 patterns, adds the FullyQualifiedErrorIds and MSG: keys as supporting
evidence, and keeps the masked lines as its first inline example. It is validated exactly as
`psgdiag signatures check` would, then run against every sample case to list what else it matches.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from psgdiag import api, regexcode
from psgdiag.errors import KbError
from psgdiag.kb.problems import Problems
from psgdiag.kb.regex import compile_regex
from psgdiag.kb.schema import parse_signature
from psgdiag.model import Document, Facts, KnowledgeBase, Signature
from psgdiag.pipeline.ingest import decode
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.textview import TextIndex
from psgdiag.record import record
from psgdiag.redact import redact
from psgdiag.triage.cluster import VARIABLES, key_lines, mask, mask_spans

MAX_LINE_CHARS = 160
MIN_WORDS = 3
_RE2 = {kind: rx for kind, _, rx in VARIABLES}
_SPECIAL = set("\\.^$|?*+()[]{}")
_SLUG_WORD = regexcode.compile(r"[a-z][a-z0-9]+")


@record
class Draft:
    """A drafted signature: its TOML text and the parsed, validated signature."""

    id: str
    toml: str
    signature: Signature


def _escape(literal: str) -> str:
    """Escape a literal for RE2 (Python's re.escape also escapes characters RE2 rejects)."""
    text = " ".join(literal.split(" "))
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


def line_regex(line: str, module: str | None) -> str:
    """Turn one log line into a bounded RE2 pattern with its variable parts generalised."""
    out: list[str] = []
    named = False
    for kind, part in mask_spans(" ".join(line.split())):
        if not kind:
            out.append(_escape(part))
        elif kind == "QUOTED" and module and part[1:-1] == module and not named:
            q = part[0]
            out.append(f"{q}(?P<module>[^{q}]{{1,200}}){q}")
            named = True
        else:
            out.append(_RE2[kind])
    return "".join(out).strip()


def _words_prefix(line: str, words: int) -> str:
    return " ".join(line.split()[:words])


def _fit(line: str, module: str | None, spaced: str) -> str | None:
    """Return the longest pattern for this line (by whole words) that matches the log itself."""
    words = " ".join(line.split())[:MAX_LINE_CHARS].split()
    for n in range(len(words), MIN_WORDS - 1, -1):
        pattern = line_regex(_words_prefix(" ".join(words), n), module)
        try:
            if compile_regex(pattern).search(spaced):
                return pattern
        except Exception:  # re2.error has no stable public type; try a shorter prefix
            continue
    return None


def _toml_str(value: str) -> str:
    """Quote a string for TOML: a literal string when possible, else an escaped basic string."""
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    if "'''" not in value and not value.endswith("'"):
        return f"'''{value}'''" if "\n" not in value else f"'''\n{value}'''"
    esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{esc}"'


def default_id(lines: Sequence[str]) -> str:
    """Derive a kebab-case id from the first distinctive line (its words, not its variables)."""
    words = _SLUG_WORD.findall(re.sub(r"<[A-Z]+>", " ", mask(lines[0]) if lines else "").lower())
    slug = "-".join(words[:6])[:60].strip("-")
    return f"draft-{slug}" if slug else "draft-unexplained-failure"


def _prose(line: str) -> str:
    return " ".join(mask(line).replace("{", "(").replace("}", ")").split())[:120]


def build(
    doc: Document,
    facts: Facts,
    *,
    sig_id: str | None = None,
    category: str = "client-config",
    fault: str = "undetermined",
    transient: bool = False,
    source: str = "",
    others: Sequence[str] = (),
) -> str:
    """Return the TOML text of a draft signature for this log; raise KbError when none fits.

    `others` are the spaced views of the sample cases: the line that matches the fewest of them
    becomes the required (strong) evidence, the runner-up a supporting (medium) one.
    """
    lines = [r.message for r in facts.records] or list(key_lines(doc, facts))
    spaced = TextIndex.build(doc).spaced
    module = facts.first("module")
    scored: list[tuple[int, int, str, str]] = []  # collisions, order, line, pattern
    for order, line in enumerate(dict.fromkeys(lines)):
        pattern = _fit(redact(line), module, spaced) or _fit(line, module, spaced)
        if pattern is not None:
            rx = compile_regex(pattern)
            scored.append((sum(1 for o in others if rx.search(o)), order, line, pattern))
    best = sorted(scored)[:2]
    kept = [line for _, _, line, _ in best]
    evidence: list[tuple[str, str, str, str]] = [  # name, strength, key, value
        (f"message_{n}", "strong" if n == 1 else "medium", "regex", pattern)
        for n, (_, _, _, pattern) in enumerate(best, 1)
    ]
    required = [e[0] for e in evidence[:1]]
    for n, fq in enumerate(dict.fromkeys(f.value for f in facts.fqids), 1):
        if n <= 2:
            evidence.append((f"fqid_{n}", "medium", "fqid", fq))
    for n, key in enumerate(dict.fromkeys(m.value for m in facts.msg_keys), 1):
        if n <= 2:
            evidence.append((f"msg_key_{n}", "medium", "msg_key", key))
    if not evidence:
        raise KbError([f"{source}: no error line, FullyQualifiedErrorId or MSG: key to draft from"])
    required = required or [e[0] for e in evidence]
    first = kept[0] if kept else evidence[0][3]
    sid = sig_id or default_id(kept or [first])
    cmdlet = next((r.cmdlet for r in facts.records if r.cmdlet), "") or "Install-Module"
    cmdlet = cmdlet.rsplit("\\", 1)[-1]
    out = [
        f"# Drafted by `psgdiag signatures new` from {redact(source)}.",
        "# Review the title, the explanation and the remedy, add samples under tests/cases/,",
        "# and give it a cause id from taxonomy.md before promoting it from experimental.",
        f"id = {_toml_str(sid)}",
        f"title = {_toml_str('Unexplained failure: ' + _prose(first))}",
        'status = "experimental"',
        f"category = {_toml_str(category)}",
        f"fault = {_toml_str(fault)}",
        f"transient = {'true' if transient else 'false'}",
        "references = []",
    ]
    for name, strength, key, value in evidence:
        out += ["", "[[evidence]]", f'name = "{name}"', f'strength = "{strength}"']
        out.append(f"{key} = {_toml_str(value)}")
    out += ["", "[match]", "requires_any = [" + ", ".join(f'"{n}"' for n in required) + "]"]
    out += [
        "",
        "[explain]",
        f"summary = {_toml_str('The install failed with: ' + _prose(first))}",
        "hint = " + _toml_str("Collect the complete error record (run again with -Verbose)."),
        "",
        "[[remedy]]",
        'title = "Run the command again with -Verbose and keep the whole error record"',
        f"command = {_toml_str(cmdlet + ' -Name {module|NAME} -Verbose')}",
        'scope = "session"',
        'risk = "safe"',
        "admin = false",
        "verify = '$Error[0] | Format-List * -Force'",
    ]
    example = "\n".join(redact(" ".join(k.split())) for k in kept) or redact(first)
    out += ["", "[[example]]", 'expect = "match"', f"text = {_toml_str(example)}", ""]
    return "\n".join(out)


def validate(text: str, sig_id: str, where: str = "<draft>") -> Signature:
    """Parse and validate a draft as the knowledge base would; raise KbError on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KbError([f"{where}: invalid TOML: {exc}"]) from None
    probs = Problems(where)
    sig = parse_signature(data, sig_id, probs)
    if sig is None or probs:
        raise KbError([str(p) for p in probs.items] or [f"{where}: invalid signature"])
    return sig


def matches(sig: Signature, doc: Document) -> bool:
    """Return True when this signature alone diagnoses the document."""

    kb = KnowledgeBase(signatures=(sig,), version="draft")
    report = api.diagnose_document(doc, kb=kb, incidents=())
    return any(d.signature.id == sig.id for d in report.diagnoses)


def spaced_views(cases: Sequence[Path]) -> list[str]:
    """Return the spaced view (what regex evidence runs on) of each readable sample case."""

    out: list[str] = []
    for path in cases:
        try:
            out.append(TextIndex.build(normalize(decode(path.read_bytes(), str(path)))).spaced)
        except OSError:
            continue
    return out


def case_files(roots: Iterable[Path]) -> list[Path]:
    """Return every sample log (`*.log`) under the given folders, sorted."""
    out: set[Path] = set()
    for root in roots:
        if root.is_dir():
            out.update(p for p in root.rglob("*.log") if p.is_file())
    return sorted(out)


def collisions(sig: Signature, cases: Sequence[Path], skip: Path | None = None) -> list[Path]:
    """Return the sample cases this signature would also diagnose."""

    hits: list[Path] = []
    for path in cases:
        if skip is not None and path.resolve() == skip.resolve():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if matches(sig, normalize(decode(data, str(path)))):
            hits.append(path)
    return hits
