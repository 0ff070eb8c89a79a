"""GitHub Actions: workflow-command annotations plus a Markdown job summary.

A diagnosed failure is an `::error`; further diagnoses are `::warning`s; notes and "nothing
recognised" are `::notice`s. GitHub keeps at most 10 error and 10 warning annotations per step,
so the 10th of a kind says how many more there are. The annotation builders here are shared with
the Azure Pipelines renderer, which differs only in syntax and escaping.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import TextIO

from psgdiag import regexcode
from psgdiag.model import Diagnosis, Fault, Report
from psgdiag.record import record, replace
from psgdiag.redact.report import masked_report
from psgdiag.render import Options
from psgdiag.render.markdown import render_report

ANNOTATION_CAP = 10  # per level and step, on GitHub and Azure Pipelines alike
EVIDENCE_LINES = 6
LINE_WIDTH = 200
RUNNERS_UP = 5  # listed in the job summary only: rejected causes are not annotations


@record
class Annotation:
    """One platform-neutral annotation: level, title, message and an optional log location."""

    level: str  # error | warning | notice
    title: str
    message: str
    file: str = ""
    line: int = 0
    code: str = ""


def action_of(d: Diagnosis) -> str:
    """Return what the reader should do: 'retry later' or 'fix needed'."""
    return "retry later" if d.transient or d.fault == Fault.SERVICE else "fix needed"


_CONTROL = regexcode.compile(r"[\x00-\x1f\x7f]")


def _clip(text: str, width: int = LINE_WIDTH) -> str:
    # Controls (NUL, BEL ...) would corrupt a log viewer or an XML file: show them as \xNN.
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", " ".join(text.split()))
    return text if len(text) <= width else text[: width - 3] + "..."


def evidence_lines(report: Report, d: Diagnosis) -> list[tuple[int, str]]:
    """Return the distinct evidence lines of a diagnosis, in log order, clipped for display."""
    by_no = {ln.no: ln.text for ln in reversed(report.document.lines)}
    seen: dict[int, str] = {}
    for h in d.hits:
        if h.line_start and h.line_start not in seen:
            seen[h.line_start] = by_no.get(h.line_start, h.text)
    return [(no, _clip(text)) for no, text in sorted(seen.items())][:EVIDENCE_LINES]


def log_file(report: Report) -> str:
    """Return the input's path when it names a file in the workspace, else ''."""
    src = report.document.source
    if not src or src.startswith("<") or src == "-" or any(c.isspace() for c in src):
        return ""
    if PurePosixPath(src).is_absolute() or PureWindowsPath(src).is_absolute():
        return ""
    return src.replace("\\", "/")


def body(report: Report, d: Diagnosis) -> str:
    """The plain-text message for one diagnosis (also the JUnit failure text)."""
    lines = [d.summary, f"Side: {d.fault.value}; {action_of(d)}."]
    if d.incident is not None:
        lines.append(f"Known incident: {d.incident.id} ({d.incident.title}).")
    if d.signature.explain.hint:
        lines.append(f"First step: {_clip(d.signature.explain.hint, 400)}")
    ev = evidence_lines(report, d)
    if ev:
        lines.append("Evidence:")
        lines.extend(f"  line {no}: {text}" for no, text in ev)
    return "\n".join(lines)


def _shown(reports: Sequence[Report], options: Options) -> Sequence[Report]:
    """The reports as shown: with the input's secrets masked when options.redact is set."""
    return [masked_report(r) for r in reports] if options.redact else reports


def build_annotations(reports: Sequence[Report], options: Options) -> list[Annotation]:
    """Build every annotation (uncapped), the input's secrets masked when options.redact is set."""
    out: list[Annotation] = []
    for report in _shown(reports, options):
        where = log_file(report)
        if not report.diagnoses:
            msg = f"No known cause recognised in {report.document.source}."
            out.append(Annotation("notice", "psgdiag", msg, where))
        for i, d in enumerate(report.diagnoses):
            ev = evidence_lines(report, d)
            title = f"{d.signature.title} [{d.signature.id}, {d.confidence:.0%}]"
            if i > 0:
                title = "Also possible: " + title
            level = "error" if i == 0 else "warning"
            line = ev[0][0] if ev and where else 0
            msg = body(report, d)
            out.append(Annotation(level, title, msg, where, line, d.signature.id))
        out.extend(Annotation("notice", "psgdiag", n, where) for n in report.notes)
    return out


def recovered_annotations(reports: Sequence[Report], options: Options) -> list[Annotation]:
    """Return warnings (never errors) for failures that a later retry got past."""
    return [
        replace(a, level="warning", title="Passed after a retry: " + a.title)
        for a in build_annotations(reports, options)
        if a.level == "error"
    ]


def capped(items: Sequence[Annotation], limit: int = ANNOTATION_CAP) -> list[Annotation]:
    """Keep at most `limit` errors and warnings, in order; the last kept says how many were cut."""
    total = Counter(a.level for a in items)
    seen: Counter[str] = Counter()
    kept: list[Annotation] = []
    for a in items:
        if a.level not in ("error", "warning") or total[a.level] <= limit:
            kept.append(a)
            continue
        seen[a.level] += 1
        if seen[a.level] < limit:
            kept.append(a)
        elif seen[a.level] == limit:
            more = total[a.level] - limit + 1
            note = f"{more} more {a.level}s: see the job summary or run psgdiag explain"
            kept.append(Annotation(a.level, "psgdiag", note))
    return kept


def escape_data(text: str) -> str:
    """Escape a workflow-command message (GitHub runner rules)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value (message rules plus ':' and ',')."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(a: Annotation) -> str:
    """Return one `::level key=value,...::message` line."""
    props = [f"title={escape_property(a.title)}"]
    if a.file:
        props.insert(0, f"file={escape_property(a.file)}")
        if a.line:
            props.insert(1, f"line={a.line}")
    return f"::{a.level} {','.join(props)}::{escape_data(a.message)}"


def _summary(reports: Sequence[Report], options: Options) -> str:
    """The job summary: the Markdown reply per report, then the causes set aside."""
    parts = ["## psgdiag\n"]
    plain = replace(options, redact=False)  # masked once, below
    for report in _shown(reports, options):
        if len(reports) > 1:
            parts.append(f"### {report.document.source}\n")
        parts.append(render_report(report, plain))
        if report.runners_up:
            parts.append("**Considered and set aside:**\n")
            parts.extend(
                f"- `{w.cause}` ({w.confidence:.0%}): {_clip(w.reason, 300)}"
                for w in report.runners_up[:RUNNERS_UP]
            )
            parts.append("")
    return "\n".join(parts).rstrip() + "\n\n"


def render(
    reports: Sequence[Report],
    out: TextIO,
    options: Options,
    *,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Write annotations to `out`; append a Markdown summary to $GITHUB_STEP_SUMMARY when set."""
    for a in capped(build_annotations(reports, options)):
        out.write(command(a) + "\n")
    path = environ.get("GITHUB_STEP_SUMMARY", "")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8", newline="\n") as fh:
            fh.write(_summary(reports, options))
    except OSError as exc:
        out.write(command(Annotation("warning", "psgdiag", f"job summary not written: {exc}")))
        out.write("\n")


def render_recovered(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Write one warning per failed attempt when the command passed after a retry."""
    for a in capped(recovered_annotations(reports, options)):
        out.write(command(a) + "\n")
