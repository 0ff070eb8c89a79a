"""Document -> Facts: error records, FQIDs, MSG: keys, HTTP codes, URLs, versions, time.

General mechanisms only: what to pull out by pattern lives in data/extractors.toml.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from functools import lru_cache
from typing import Any

from psgdiag import regexcode
from psgdiag.cache import data_toml
from psgdiag.kb.regex import cached_regex
from psgdiag.model import Document, ErrorRecord, Facts, FactValue, Line
from psgdiag.pipeline.derived import add_derived
from psgdiag.pipeline.normalize import in_gutter, load_framing
from psgdiag.pipeline.when import find_time
from psgdiag.record import record, replace

_FQID = regexcode.compile(r"FullyQualifiedErrorId\s*:\s*(.+)$", re.IGNORECASE)
_FQID_TAIL = regexcode.compile(r"^[^,\s][^,]{0,200},[A-Za-z][\w.-]+\s*$")
_LIST_FQID = regexcode.compile(r"^(FullyQualifiedErrorId +: )\S")
_CATEGORY = regexcode.compile(
    r"CategoryInfo\s*:\s*(?P<cat>\w+)\s?:\s*\((?P<target>.*)\)\s*\[(?P<activity>[^\]]*)\][,\uff0c\u3001]\s*"
    r"(?P<exc>[\w.]+)",
    re.IGNORECASE,
)
# "Install-Module : msg", "PackageManagement\Install-Package : msg", PS 7 "Install-Package: msg"
_RECORD = regexcode.compile(
    r"^(?:[A-Za-z]+\\)?(?P<cmdlet>[A-Z][A-Za-z]+-[A-Za-z]+)\s?:\s+(?P<msg>\S.*)$"
)
# What ends a record's message whatever the language (the position line is localised: framing).
_RECORD_END_ANY = (
    r"Line \||\+ |CategoryInfo|FullyQualifiedErrorId|PS [A-Za-z]:|PS /"
    # a position line in any language: "<At> line:1 char:1", "<At> C:\...\x.psm1:9 char:3"
    r"|\S+(?:\s\S+)?\s(?:\S{1,12}:\s?\d+|[A-Za-z]:\\.*:\d+)\s+\S{1,12}:\s?\d+\s*$"
)
_SQUIGGLE = regexcode.compile(r"^~{3,}\s*$")
_GUTTER_LABEL = regexcode.compile(r"^\S{1,12}\s?\|$")
_WRAP_TAIL = regexcode.compile(r"^(?:\d{4}-\d\d-\d\dT[\d:.]+Z\s)?   [^\s+]")
_MSG_KEY = regexcode.compile(r"\bMSG:([A-Za-z_]\w+)")
_HTTP = (
    regexcode.compile(r"\((?P<code>[1-5]\d\d)\)\s+[A-Z][A-Za-z]"),  # (503) Server Unavailable
    regexcode.compile(
        r"\b(?P<code>[1-5]\d\d)\s+\((?:[A-Z][\w-]*\s?){1,5}\)"
    ),  # 503 (Service Unavailable)
    regexcode.compile(r"\bHTTP/\d(?:\.\d)?\s+(?P<code>[1-5]\d\d)\b"),
    regexcode.compile(r"status code\s*'?(?P<code>[1-5]\d\d)'?", re.IGNORECASE),
    regexcode.compile(r"\bStatusCode\s*[:=]\s*(?P<code>[1-5]\d\d)\b"),
)
_EXCEPTION = regexcode.compile(r"\b((?:System|Microsoft)(?:\.\w+)+(?:Exception|Error))\b")
_URL = regexcode.compile(r"https?://[^\s'\"<>()«»\[\]{}]+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _record_end() -> re.Pattern[str]:
    """A line that ends an error record's message: a position line in any language, a field."""
    positions = "|".join(re.escape(p) for p in load_framing().positions)
    return regexcode.compile(f"^(?:{positions}|{_RECORD_END_ANY})")


@record
class Extractor:
    """A named regex whose groups (and `set` values) become facts."""

    name: str
    pattern: str  # RE2 syntax, multi-line, case-insensitive
    sets: tuple[tuple[str, str], ...]
    # phrase sets every match holds one of each (psgdiag.regexlit): a text without them is
    # not searched, and the pattern is not even compiled
    needs: tuple[tuple[str, ...], ...] = ()

    def could_match(self, low: str) -> bool:
        """False when the lower-cased text lacks a phrase every match needs."""
        return all(any(p in low for p in need) for need in self.needs)

    @property
    def regex(self) -> Any:
        """The compiled RE2 pattern (compiled on first use, then kept for the run)."""
        return cached_regex(self.pattern)


def _with_needs(raw: dict[str, Any]) -> dict[str, Any]:
    """Snapshot step: each extractor's required phrases, derived once from its regex."""
    # Imported here: only when the extractor table's snapshot is rebuilt (start-up time).
    from psgdiag.kb.regexlit import regex_requirements_of

    for item in raw["extractor"]:
        needs = regex_requirements_of("(?m)" + item["regex"])
        item["needs"] = [sorted(need) for need in needs]
    return raw


@lru_cache(maxsize=1)
def load_extractors() -> tuple[Extractor, ...]:
    """Load the fact extractors shipped in data/extractors.toml."""
    raw = data_toml("extractors.toml", _with_needs)
    out = []
    for item in raw["extractor"]:
        out.append(
            Extractor(
                name=item["name"],
                pattern="(?m)" + item["regex"],
                sets=tuple(sorted(item.get("set", {}).items())),
                needs=tuple(tuple(need) for need in item.get("needs", ())),
            )
        )
    return tuple(out)


def _continuation(lines: tuple[Line, ...], i: int) -> str:
    """Join the console-wrapped tail of a CategoryInfo/FQID line (catalog §1 rule 6).

    Windows PowerShell wraps these fields at the console width, even mid-word, and indents the
    continuation by exactly three spaces.
    """
    text = ""
    j = i + 1
    while j < len(lines) and _WRAP_TAIL.match(lines[j].raw):
        text += lines[j].raw.strip()
        j += 1
    return text


def _list_continuation(lines: tuple[Line, ...], i: int) -> str:
    """Join the wrapped tail of a Format-List FQID (`$error[0] | Format-List * -Force`).

    Format-List pads every property name to one width and wraps a long value onto lines indented
    exactly to the value's column; the next property starts at column 0.
    """
    m = _LIST_FQID.match(lines[i].raw)
    if m is None:
        return ""
    column = len(m.group(1))
    text = ""
    j = i + 1
    while j < len(lines):
        raw = lines[j].raw.rstrip()
        if not raw or len(raw) - len(raw.lstrip(" ")) != column:
            break
        text += raw.strip()
        j += 1
    return text


def _records(lines: tuple[Line, ...]) -> tuple[list[ErrorRecord], list[FactValue]]:
    records: list[ErrorRecord] = []
    fqids: list[FactValue] = []
    pending: dict[str, str] = {}
    for i, line in enumerate(lines):
        text = line.text
        if not text or ":" not in text:
            continue
        m = _FQID.search(text) if "rrorId" in text or "rrorid" in text else None
        if m:
            fq = (m.group(1) + (_continuation(lines, i) or _list_continuation(lines, i))).strip()
            if "," not in fq and i + 1 < len(lines) and _FQID_TAIL.match(lines[i + 1].text):
                # re-wrapped without the console's indent: an FQID always ends ",<where>"
                fq = f"{fq} {lines[i + 1].text.strip()}"
            fqids.append(FactValue(fq, line.no))
            if records and line.no - records[-1].line < 40 and not records[-1].fqid:
                records[-1] = replace(records[-1], fqid=fq)
            continue
        c = (
            _CATEGORY.search(text + _continuation(lines, i))
            if "ategoryInfo" in text or "ategoryinfo" in text
            else None
        )
        if c:
            pending["category"] = c.group("cat")
            pending["exception"] = c.group("exc")
            if records and not records[-1].category:
                records[-1] = replace(
                    records[-1],
                    category=c.group("cat"),
                    exception=c.group("exc"),
                    activity=c.group("activity").strip(),
                )
            continue
        r = _RECORD.match(text)
        if r and line.stream == "":
            parts = [r.group("msg")]
            j = i + 1
            limit, concise, marked = i + 8, False, False
            while j < len(lines) and j < limit:
                nxt = lines[j].text
                if j == i + 1 and _GUTTER_LABEL.match(nxt):
                    # PowerShell 7's concise view: "Line |" (in the console's language), the
                    # code line, a ~~~ marker, then the message in the gutter
                    limit, concise = i + 14, True
                elif _SQUIGGLE.match(nxt):
                    parts, marked = [], True  # the message follows the marker
                elif concise and marked and not in_gutter(lines[j].raw):
                    break  # out of the gutter: the record's message has ended
                elif not nxt or _record_end().match(nxt) or _RECORD.match(nxt):
                    break
                else:
                    parts.append(nxt)
                j += 1
            end = lines[j - 1].no
            records.append(ErrorRecord(" ".join(parts), line.no, r.group("cmdlet"), line_end=end))
    return records, fqids


def _joined(doc: Document) -> tuple[str, list[int]]:
    """The cleaned lines joined by newlines, with each line's start offset."""
    starts: list[int] = []
    pos = 0
    for line in doc.lines:
        starts.append(pos)
        pos += len(line.text) + 1
    return "\n".join(line.text for line in doc.lines), starts


def extract_facts(doc: Document, anchor: dt.datetime | None = None) -> Facts:
    """Pull every general fact out of the document; pure, no signature involved.

    `anchor` (when the text was sent: an e-mail's Date header) dates relative phrases.

    Each pattern scans the whole text once (C loops), not once per line: a large log has
    hundreds of thousands of lines.
    """
    text, starts = _joined(doc)
    lines = doc.lines

    def line_no(offset: int) -> int:
        return lines[bisect.bisect_right(starts, offset) - 1].no

    data = text.encode("utf-8", "surrogatepass")
    byte_starts: list[int] = []
    pos = 0
    for line in lines:
        byte_starts.append(pos)
        pos += len(line.text.encode("utf-8", "surrogatepass")) + 1

    found: list[tuple[int, int, str, str]] = []  # (line, order, name, value)
    low = text.lower()
    for order, ex in enumerate(load_extractors()):
        if not ex.could_match(low):
            continue
        for m in ex.regex.finditer(data):
            no = lines[bisect.bisect_right(byte_starts, m.start()) - 1].no
            for key, val in m.groupdict().items():
                if val:  # a value a console wrap cut (where a pattern allows it) is rejoined
                    value = val.replace(b"\n", b"").decode("utf-8", "replace")
                    found.append((no, order, key.decode(), value))
            for key, val in ex.sets:
                found.append((no, order, key, val))
    msg_keys = [FactValue(m.group(1), line_no(m.start())) for m in _MSG_KEY.finditer(text)]
    statuses: list[tuple[int, int]] = []
    for rx in _HTTP:
        statuses.extend((int(m.group("code")), line_no(m.start())) for m in rx.finditer(text))
    statuses.sort(key=lambda s: s[1])
    exceptions = [FactValue(m.group(1), line_no(m.start())) for m in _EXCEPTION.finditer(text)]
    urls: list[FactValue] = []
    for um in _URL.finditer(text):
        url = um.group(0).rstrip(".,;:'")
        no = line_no(um.start())
        urls.append(FactValue(url, no))
        host = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).split("/")[0].lower()
        found.append((no, len(found) + 10_000, "host", host.split(":")[0]))
    values: dict[str, list[FactValue]] = {}
    for no, _order, key, val in sorted(found, key=lambda f: (f[0], f[1])):
        bucket = values.setdefault(key, [])
        if all(v.value != val for v in bucket):
            bucket.append(FactValue(val, no))
    records, fqids = _records(doc.lines)
    derived = add_derived(values, doc.lines, low)
    return Facts(
        values={k: tuple(v) for k, v in values.items()},
        records=tuple(records),
        fqids=tuple(fqids),
        msg_keys=tuple(msg_keys),
        http_statuses=tuple(dict.fromkeys(statuses)),
        exceptions=tuple(exceptions),
        urls=tuple(urls),
        time=find_time(doc, anchor),
        derived=frozenset(derived),
    )
