"""What to send next when no known cause was recognised: advice that is true of this input.

Every renderer shows the same advice (terminal, markdown, the serve page). It asks only for what
the input lacks: the error record's CategoryInfo and FullyQualifiedErrorId lines when they are
missing, the verbose stream when it is absent, the exception chain when a record is there but
its message was not recognised, and names the error ids that psgdiag saw but knows no cause for.
"""

from __future__ import annotations

from psgdiag.model import Report
from psgdiag.pipeline.normalize import in_gutter

_RECORD_HELP = (
    "run `$Error[0] | Format-List * -Force` and `$Error[0].Exception.InnerException` after the "
    "failure and send their output too (or use the `psgdiag-last` helper of "
    "`psgdiag shell pwsh`)"
)


def next_steps(report: Report) -> tuple[str, ...]:
    """Short sentences, most useful first, for a report without a diagnosis."""
    facts = report.facts
    lines = [line.text for line in report.document.lines]
    has_category = any("categoryinfo" in text.lower() for text in lines)
    steps: list[str] = []
    if not facts.fqids and not has_category:
        if any(in_gutter(line.raw) for line in report.document.lines):
            steps.append(
                "PowerShell 7 printed its short error view, which leaves out the error id: run "
                "`Get-Error` right after the failure and send its output too"
            )
        elif facts.records:
            steps.append(
                "send the whole error record: the lines that start with '+ CategoryInfo' and "
                "'+ FullyQualifiedErrorId' are missing from what you sent"
            )
        else:
            steps.append(
                "send the error itself: no PowerShell error record (a 'Verb-Noun : message' "
                "line with its '+ CategoryInfo' and '+ FullyQualifiedErrorId') is in what you sent"
            )
    else:
        ids = sorted({fq.value.split(",", 1)[0].strip() for fq in facts.fqids if fq.value})
        if ids:
            shown = ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")
            steps.append(f"the error record is there ({shown}), but no known cause explains it")
        steps.append(_RECORD_HELP)
    if not any(line.stream == "verbose" for line in report.document.lines):
        steps.append("run the install again with -Verbose: it shows the URLs and every step")
    return tuple(steps)
