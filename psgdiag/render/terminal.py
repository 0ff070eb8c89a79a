"""Rich terminal output: one card per diagnosis (pip anatomy), evidence lines never hard-wrapped."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from psgdiag.model import Diagnosis, Fault, Incident, Report
from psgdiag.render import Options

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


def _console(out: TextIO, options: Options) -> Console:
    return Console(
        file=out,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=options.width or 100,
        soft_wrap=True,
        highlight=False,
        emoji=False,
        markup=True,
    )


def _card(con: Console, d: Diagnosis, report: Report, rule: str, options: Options) -> None:
    sig = d.signature
    dot = "·" if rule != "-" else "*"
    action = "retry later" if d.transient or d.fault == Fault.SERVICE else "fix needed"
    con.print(
        f"[bold red]{rule * 2} {escape(sig.id)}[/] {rule} {d.confidence:.0%} {rule} "
        f"[bold]{escape(action)}[/]"
    )
    con.print(f"[bold]{escape(d.summary)}[/]")
    con.print(f"[dim]side:[/] {escape(SIDE[d.fault])}")
    if d.incident is not None:
        inc = d.incident
        end = window_end_text(inc)
        con.print(
            f'[yellow]incident:[/] {escape(inc.id)} "{escape(inc.title)}" '
            f"({inc.start.date().isoformat()} .. {end})"
        )
        if inc.summary:
            con.print(f"  {escape(inc.summary)}")
        if inc.workaround:
            con.print(f"  [dim]what to do:[/] {escape(inc.workaround)}")
    elif d.possible_incidents:
        latest = d.possible_incidents[-3:]
        spans = "; ".join(
            f"{i.id} ({i.start.date().isoformat()} .. "
            f"{(i.end or i.end_assumed or i.start).date().isoformat()})"
            for i in latest
        )
        con.print(f"[dim]if this happened during a known incident:[/] {escape(spans)}")
    con.print("[dim]evidence:[/]")
    lines = {ln.no: ln.text for ln in reversed(report.document.lines) if ln.text}
    shown: set[int] = set()
    for h in d.hits:
        if h.line_start:
            for no in range(h.line_start, min(h.line_end, h.line_start + 3) + 1):
                if no in lines and no not in shown:
                    shown.add(no)
                    con.print(Text(f"  L{no:<5} ", style="cyan") + Text(lines[no]))
        elif h.text:
            con.print(Text(f"  {dot}      ", style="cyan") + Text(h.text))
    if d.consequences:
        con.print(f"[dim]also explains:[/] {escape(', '.join(d.consequences))}")
    ex = sig.explain
    if options.verbose and ex.why:
        con.print(f"[dim]why:[/] {escape(' '.join(ex.why.split()))}")
    if ex.note:
        con.print(f"[dim]note:[/] {escape(ex.note)}")
    if ex.hint:
        con.print(f"[green]hint:[/] {escape(ex.hint)}")
    variables = dict(d.variables)
    from psgdiag.score import fill

    if sig.remedies:
        con.print("[dim]remedies:[/]")
    for i, r in enumerate(sig.remedies, 1):
        grade = f"{r.scope.value}, {r.risk.value}" + (", admin" if r.admin else "")
        con.print(f"  {i}. {escape(fill(r.title, variables))} [dim]({grade})[/]")
        if r.command:
            for cmd_line in fill(r.command, variables).splitlines():
                con.print(Text("     " + cmd_line, style="bold"))
        if r.cost:
            con.print(f"     [dim]cost:[/] {escape(r.cost)}")
        if r.verify:
            con.print(Text("     verify: ", style="dim") + Text(fill(r.verify, variables)))
    if options.verbose:
        for ref in sig.references:
            con.print(f"[dim]see:[/] {escape(ref)}")


def render(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Print a card per diagnosis, then the causes considered and rejected."""
    con = _console(out, options)
    rule = "─" if _can_encode(out, "─·") and not options.ascii_only else "-"
    for n, report in enumerate(reports):
        if len(reports) > 1:
            con.print(f"[bold]== {escape(report.document.source)}[/]")
        if not report.diagnoses:
            con.print("[bold]No known cause recognised.[/]")
            for note in report.notes:
                con.print(f"[yellow]note:[/] {escape(note)}")
            con.print(
                "[dim]hint: paste the whole error, including the lines that start with "
                "'+ CategoryInfo' and '+ FullyQualifiedErrorId', or run the install with "
                "-Verbose.[/]"
            )
        for i, d in enumerate(report.diagnoses):
            if i:
                con.print()
            _card(con, d, report, rule, options)
        if report.probe is not None and report.probe.get("note"):
            con.print(f"[yellow]probe now:[/] {escape(str(report.probe['note']))}")
        shown = [w for w in report.runners_up if w.confidence > 0][:4]
        if shown:
            con.print()
            con.print("[dim]also considered:[/]")
            for w in shown:
                con.print(f"  [dim]{escape(w.cause)} ({w.confidence:.0%}): {escape(w.reason)}[/]")
        top = report.diagnoses[0] if report.diagnoses else None
        if top is not None and top.signature.explain.settle and report.runners_up:
            from psgdiag.score import fill

            settle = fill(top.signature.explain.settle, dict(top.variables))
            con.print(f"[green]to settle it:[/] {escape(settle)}")
        if n < len(reports) - 1:
            con.print()
