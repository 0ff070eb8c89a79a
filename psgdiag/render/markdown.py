"""Markdown: a reply a support engineer can paste into a ticket (secrets masked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from psgdiag.model import Fault, Report
from psgdiag.pipeline.score import fill
from psgdiag.redact import redact
from psgdiag.redact.report import masked_report
from psgdiag.render import Options
from psgdiag.render.advice import next_steps
from psgdiag.render.terminal import SIDE, window_end_text
from psgdiag.render.timesource import time_text


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_report(report: Report, options: Options) -> str:
    """Return the Markdown for one report (the input's secrets masked when options.redact)."""
    if options.redact:
        report = masked_report(report)
    out: list[str] = []
    if not report.diagnoses:
        out.append("**No known cause recognised** in the output you sent.")
        out.extend(f"\n> {n}" for n in report.notes)
        out.append("\nTo look further, could you:")
        out.extend(f"- {step[0].upper()}{step[1:]}." for step in next_steps(report))
    for i, d in enumerate(report.diagnoses):
        sig = d.signature
        variables = dict(d.variables)
        head = "Most likely cause" if i == 0 else "Also possible"
        action = "retry later" if d.transient or d.fault == Fault.SERVICE else "needs a fix"
        out.append(f"### {head}: {sig.title} (`{sig.id}`, {d.confidence:.0%}, {action})\n")
        out.append(d.summary + "\n")
        out.append(f"- **Whose side:** {SIDE[d.fault]}")
        out.append(f"- **When:** {time_text(report)}")
        if d.incident is not None:
            inc = d.incident
            end = window_end_text(inc)
            out.append(
                f"- **Known incident:** `{inc.id}` {inc.title} "
                f"({inc.start.date().isoformat()} .. {end}). {inc.workaround}".rstrip()
            )
        elif d.possible_incidents:
            fits = d.possible_fit or (("unknown", ""),) * len(d.possible_incidents)
            best, (_fit, why) = d.possible_incidents[0], fits[0]
            out.append(
                f"- **If it happened during a known incident:** `{best.id}` {best.title}"
                + (f" ({why})" if why else "")
            )
        if sig.explain.why:
            out.append(f"- **Why:** {' '.join(sig.explain.why.split())}")
        if sig.explain.hint:
            out.append(f"- **First step:** {sig.explain.hint}")
        out.append("\n**From your log:**\n\n```text")
        lines = {ln.no: ln.text for ln in reversed(report.document.lines)}
        for no in sorted({h.line_start for h in d.hits if h.line_start in lines}):
            out.append(f"{no:>5}: {lines[no]}")
        out.append("```\n")
        if sig.remedies:
            out.append("**What to do:**\n")
        for n, r in enumerate(sig.remedies, 1):
            grade = f"{r.scope.value} scope, {r.risk.value}" + (", needs admin" if r.admin else "")
            out.append(f"{n}. {fill(r.title, variables)} _({grade})_")
            if r.command:
                out.append("   ```powershell")
                out.extend("   " + c for c in fill(r.command, variables).splitlines())
                out.append("   ```")
            if r.cost:
                out.append(f"   Cost: {r.cost}")
            if r.verify:
                out.append(f"   Check with: `{fill(r.verify, variables)}`")
        if sig.references:
            out.append("\nReferences: " + ", ".join(f"<{u}>" for u in sig.references))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Write the Markdown reply for each report."""
    for i, report in enumerate(reports):
        if len(reports) > 1:
            source = report.document.source
            out.write(f"## {redact(source) if options.redact else source}\n\n")
        out.write(render_report(report, options))
        if i < len(reports) - 1:
            out.write("\n")
