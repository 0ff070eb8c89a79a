"""Terminal output (`-f rich`): a card per diagnosis (pip anatomy); evidence lines never wrap."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import TextIO

from psgdiag.model import Diagnosis, Fault, Incident, Report
from psgdiag.pipeline.score import fill
from psgdiag.render import Options
from psgdiag.render.advice import next_steps
from psgdiag.render.styled import Styled
from psgdiag.render.timesource import time_text

SIDE = {
    Fault.SERVICE: "the gallery (service side)",
    Fault.NETWORK: "the network between you and the gallery",
    Fault.CLIENT: "your machine or command",
    Fault.PACKAGE: "the package itself",
    Fault.UNDETERMINED: "not settled by the log alone",
}


def window_end_text(inc: Incident) -> str:
    """The end of an incident window as shown to people: known, assumed, or open."""
    if inc.end is not None:
        return inc.end.date().isoformat()
    if inc.end_assumed is not None:
        return f"{inc.end_assumed.date().isoformat()} (assumed)"
    return "open"


def _can_encode(out: TextIO, sample: str) -> bool:
    enc = getattr(out, "encoding", None) or "utf-8"
    try:
        codecs.lookup(enc)
        sample.encode(enc)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def _span(inc: Incident) -> str:
    end = inc.end or inc.end_assumed
    last = end.date().isoformat() if end else "open"
    return f"{inc.id} ({inc.start.date().isoformat()} .. {last})"


def _possible(con: Styled, d: Diagnosis, shown: int = 3) -> None:
    """The incidents that would explain it, best fit first, each group with why it fits."""
    fits = d.possible_fit or tuple(("unknown", "") for _ in d.possible_incidents)
    order = "latest first" if fits[0][0] == "unknown" else "best fit first"
    con.line(("dim", f"if this happened during a known incident ({order}):"))
    groups: list[tuple[str, list[Incident]]] = []
    for inc, (_fit, why) in list(zip(d.possible_incidents, fits, strict=False))[:shown]:
        if groups and groups[-1][0] == why:
            groups[-1][1].append(inc)
        else:
            groups.append((why, [inc]))
    for why, incs in groups:
        con.line("  " + ", ".join(_span(i) for i in incs) + (f": {why}" if why else ""))
    more = len(d.possible_incidents) - shown
    if more > 0:
        con.line(("dim", f"  (+{more} more in --format json)"))
    if d.not_offered:
        con.line(("dim", "not offered (outside the era):"), f" {', '.join(d.not_offered)}")


def _card(con: Styled, d: Diagnosis, report: Report, rule: str, options: Options) -> None:
    sig = d.signature
    dot = "·" if rule != "-" else "*"
    action = "retry later" if d.transient or d.fault == Fault.SERVICE else "fix needed"
    con.line(
        ("bold red", f"{rule * 2} {sig.id}"),
        f" {rule} {d.confidence:.0%} {rule} ",
        ("bold", action),
    )
    con.line(("bold", d.summary))
    con.line(("dim", "side:"), f" {SIDE[d.fault]}")
    con.line(("dim", "time:"), f" {time_text(report)}")
    if d.incident is not None:
        inc = d.incident
        end = window_end_text(inc)
        con.line(
            ("yellow", "incident:"),
            f' {inc.id} "{inc.title}" ({inc.start.date().isoformat()} .. {end})',
        )
        if inc.summary:
            con.line(f"  {inc.summary}")
        if inc.workaround:
            con.line("  ", ("dim", "what to do:"), f" {inc.workaround}")
    elif d.possible_incidents:
        _possible(con, d)
    con.line(("dim", "evidence:"))
    lines = {ln.no: ln.text for ln in reversed(report.document.lines) if ln.text}
    shown: set[int] = set()
    for h in d.hits:
        if h.line_start:
            for no in range(h.line_start, min(h.line_end, h.line_start + 3) + 1):
                if no in lines and no not in shown:
                    shown.add(no)
                    con.line(("cyan", f"  L{no:<5} "), lines[no])
        elif h.text:
            con.line(("cyan", f"  {dot}      "), h.text)
    if d.consequences:
        con.line(("dim", "also explains:"), f" {', '.join(d.consequences)}")
    ex = sig.explain
    if options.verbose and ex.why:
        con.line(("dim", "why:"), f" {' '.join(ex.why.split())}")
    if ex.note:
        con.line(("dim", "note:"), f" {ex.note}")
    if ex.hint:
        con.line(("green", "hint:"), f" {ex.hint}")
    variables = dict(d.variables)

    if sig.remedies:
        con.line(("dim", "remedies:"))
    for i, r in enumerate(sig.remedies, 1):
        grade = f"{r.scope.value}, {r.risk.value}" + (", admin" if r.admin else "")
        con.line(f"  {i}. {fill(r.title, variables)} ", ("dim", f"({grade})"))
        if r.command:
            for cmd_line in fill(r.command, variables).splitlines():
                con.line(("bold", "     " + cmd_line))
        if r.cost:
            con.line("     ", ("dim", "cost:"), f" {r.cost}")
        if r.verify:
            con.line(("dim", "     verify: "), fill(r.verify, variables))
    if options.verbose:
        for ref in sig.references:
            con.line(("dim", "see:"), f" {ref}")


def render(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Print a card per diagnosis, then the causes considered and rejected."""
    if options.redact:
        # Imported here: only a redacted card needs the patterns (start-up time).
        from psgdiag.redact.report import masked_report

        reports = [masked_report(r) for r in reports]
    con = Styled(out, options.color)
    rule = "─" if _can_encode(out, "─·") and not options.ascii_only else "-"
    for n, report in enumerate(reports):
        if len(reports) > 1:
            con.line(("bold", f"== {report.document.source}"))
        if not report.diagnoses:
            con.line(("bold", "No known cause recognised."))
            for note in report.notes:
                con.line(("yellow", "note:"), f" {note}")
            for step in next_steps(report):
                con.line(("dim", f"hint: {step}."))
        for i, d in enumerate(report.diagnoses):
            if i:
                con.line()
            _card(con, d, report, rule, options)
        if report.probe is not None and report.probe.note:
            con.line(("yellow", "probe now:"), f" {report.probe.note}")
        shown = [w for w in report.runners_up if w.confidence > 0][:4]
        if shown:
            con.line()
            con.line(("dim", "also considered:"))
            for w in shown:
                con.line(("dim", f"  {w.cause} ({w.confidence:.0%}): {w.reason}"))
        top = report.diagnoses[0] if report.diagnoses else None
        if top is not None and top.signature.explain.settle and report.runners_up:
            settle = fill(top.signature.explain.settle, dict(top.variables))
            con.line(("green", "to settle it:"), f" {settle}")
        if n < len(reports) - 1:
            con.line()
