"""Terminal output (`-f rich`): a card per diagnosis (pip anatomy); evidence lines never wrap."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import TextIO

from psgdiag.model import Diagnosis, Fault, Incident, Report
from psgdiag.pipeline.score import fill
from psgdiag.render import Options
from psgdiag.render.styled import Styled

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
        latest = d.possible_incidents[-3:]
        spans = "; ".join(
            f"{i.id} ({i.start.date().isoformat()} .. "
            f"{(i.end or i.end_assumed or i.start).date().isoformat()})"
            for i in latest
        )
        con.line(("dim", "if this happened during a known incident:"), f" {spans}")
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
    con = Styled(out, options.color)
    rule = "─" if _can_encode(out, "─·") and not options.ascii_only else "-"
    for n, report in enumerate(reports):
        if len(reports) > 1:
            con.line(("bold", f"== {report.document.source}"))
        if not report.diagnoses:
            con.line(("bold", "No known cause recognised."))
            for note in report.notes:
                con.line(("yellow", "note:"), f" {note}")
            con.line(
                (
                    "dim",
                    "hint: paste the whole error, including the lines that start with "
                    "'+ CategoryInfo' and '+ FullyQualifiedErrorId', or run the install with "
                    "-Verbose.",
                )
            )
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
