"""Group the tickets no signature explains: mask the variable parts, then cluster by similarity.

A ticket is summarised by its key lines (its error-record messages, else its error-looking
lines, else its last lines). Names, versions, paths, GUIDs, URLs, e-mail addresses, numbers and
timestamps are masked into `<KIND>` tokens, so two tickets that failed the same way on different
modules and machines compare equal. Clustering is leader-based over rapidfuzz similarity (stable
for a given order); each group's template keeps the tokens its members share, Drain-style,
and writes `<*>` where they differ.
"""

from __future__ import annotations

from collections.abc import Sequence

from psgdiag import regexcode
from psgdiag.model import Document, Facts
from psgdiag.record import record

#: Variable kinds, most specific first, with the RE2-safe regex a drafted signature uses for each.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    (
        "TIME",
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?"
        r"|\b\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d\d(?::\d\d)?(?:\s*[AP]M)?",
        r"[0-9][0-9:./TZ+ APM-]{6,40}",
    ),
    ("URL", r"\bhttps?://[^\s'\"<>]+", r"https?://[^\s'\"<>]+"),
    ("EMAIL", r"\b[\w.%+-]+@[\w-]+(?:\.[\w-]+)+\b", r"[^\s@'\"]+@[^\s@'\"]+"),
    (
        "GUID",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    ),
    ("QUOTED", r"'[^'\r\n]{1,200}'|\"[^\"\r\n]{1,200}\"", r"""['"][^'"]{1,200}['"]"""),
    ("PATH", r"\b[A-Za-z]:\\[^\s'\"<>|]*|(?<![\w.])/(?:[\w.@-]+/)+[\w.@-]*", r"[^\s'\"<>|]+"),
    (
        "VER",
        r"\bv?\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.]+)?\b",
        r"v?[0-9]+(?:\.[0-9]+)+(?:-[0-9a-z.]+)?",
    ),
    ("HEX", r"\b(?:0x)?[0-9a-fA-F]{12,}\b", r"(?:0x)?[0-9a-f]+"),
    ("NUM", r"\b\d+\b", r"[0-9]+"),
)
_MASK_RX = regexcode.compile("|".join(f"(?P<{kind}>{rx})" for kind, rx, _ in VARIABLES))
_ERRORISH = regexcode.compile(
    r"(?i)\b(?:error|exception|fail(?:ed|ure)?|unable|cannot|could not|denied|not found|invalid)\b"
)
_NOISE = regexcode.compile(r"^\s*(?:\+|~+|At line:|CategoryInfo|FullyQualifiedErrorId|PS [A-Z]:)")
MAX_KEY_LINES = 3
SIMILARITY = 82.0


def mask_spans(text: str) -> list[tuple[str, str]]:
    """Split text into (kind, text) spans; kind is '' for literal text, else a VARIABLES kind."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _MASK_RX.finditer(text):
        if m.start() > pos:
            out.append(("", text[pos : m.start()]))
        out.append((m.lastgroup or "", m.group(0)))
        pos = m.end()
    if pos < len(text):
        out.append(("", text[pos:]))
    return out


def mask(text: str) -> str:
    """Return the text with its variable parts replaced by <KIND> tokens and spaces collapsed."""
    spans = mask_spans(" ".join(text.split()))
    return "".join(f"<{kind}>" if kind else part for kind, part in spans)


def key_lines(doc: Document, facts: Facts) -> tuple[str, ...]:
    """Return up to three lines that say what failed: error records, error-looking lines, tail."""
    seen: list[str] = []

    def add(line: str) -> None:
        line = " ".join(line.split())
        if line and line not in seen and len(seen) < MAX_KEY_LINES:
            seen.append(line[:300])

    for rec in facts.records:
        add(rec.message)
    if not seen:
        for ln in doc.lines:
            if _ERRORISH.search(ln.text) and not _NOISE.match(ln.text):
                add(ln.text)
    if not seen:
        tail = [ln.text for ln in doc.lines if ln.text.strip()][-MAX_KEY_LINES:]
        for text in tail:
            add(text)
    return tuple(seen)


@record
class Cluster:
    """A group of unexplained tickets that failed alike."""

    id: str
    template: tuple[str, ...]
    members: tuple[int, ...]  # indices into the triage items


def _merge(template: list[str], masked: Sequence[str]) -> list[str]:
    """Drain-style merge: keep tokens both lines share, write <*> where they differ."""
    out: list[str] = []
    for i, line in enumerate(template):
        if i >= len(masked):
            out.append(line)
            continue
        a, b = line.split(" "), masked[i].split(" ")
        if len(a) != len(b):
            out.append(line)
            continue
        out.append(" ".join(x if x == y else "<*>" for x, y in zip(a, b, strict=True)))
    return out


def cluster(keys: Sequence[tuple[int, tuple[str, ...]]]) -> tuple[Cluster, ...]:
    """Cluster (index, masked key lines) pairs; return groups, largest first."""
    from rapidfuzz import fuzz, process

    leaders: list[str] = []
    groups: list[list[int]] = []
    templates: list[list[str]] = []
    for index, lines in keys:
        joined = "\n".join(lines)
        found = process.extractOne(joined, leaders, scorer=fuzz.ratio, score_cutoff=SIMILARITY)
        best = found[2] if found is not None else -1
        if best >= 0:
            groups[best].append(index)
            templates[best] = _merge(templates[best], lines)
        else:
            leaders.append(joined)
            groups.append([index])
            templates.append(list(lines))
    order = sorted(range(len(groups)), key=lambda g: (-len(groups[g]), groups[g][0]))
    return tuple(
        Cluster(id=f"U{n}", template=tuple(templates[g]), members=tuple(groups[g]))
        for n, g in enumerate(order, 1)
    )
