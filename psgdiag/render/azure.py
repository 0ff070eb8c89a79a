"""Azure Pipelines: `##vso[task.logissue]` logging commands and the task result.

The same annotations as the GitHub renderer, in Azure's syntax. The agent keeps 10 errors and
10 warnings per step, so the same cap applies. When something was diagnosed the task result is
set to Failed (a diagnosed install failure is a failure even under `--exit-zero`); "nothing
recognised" leaves the result to the exit code. `render_recovered` marks a step that passed only
after a retry as SucceededWithIssues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from psgdiag.model import Report
from psgdiag.render import Options
from psgdiag.render.github import Annotation, build_annotations, capped, recovered_annotations


def escape_data(text: str) -> str:
    """Escape a logging-command message (azure-pipelines-task-lib `escapedata`)."""
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a logging-command property value (message rules plus ';' and ']')."""
    return escape_data(text).replace(";", "%3B").replace("]", "%5D")


def command(a: Annotation) -> str:
    """Return one `##vso[task.logissue ...]message` line (notices become plain log lines)."""
    if a.level not in ("error", "warning"):
        return f"psgdiag: {a.message}".replace("\r", " ").replace("\n", " ").replace("##", "#")
    props = [f"type={a.level}"]
    if a.file:
        props.append(f"sourcepath={escape_property(a.file)}")
        if a.line:
            props.append(f"linenumber={a.line}")
    if a.code:
        props.append(f"code={escape_property(a.code)}")
    text = f"{a.title}: {a.message}"
    return f"##vso[task.logissue {';'.join(props)};]{escape_data(text)}"


def task_result(reports: Sequence[Report]) -> str:
    """Return 'Failed' when something was diagnosed, else '' (leave the result alone)."""
    return "Failed" if any(r.diagnoses for r in reports) else ""


def render(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Write the logging commands for every report."""
    for a in capped(build_annotations(reports, options)):
        out.write(command(a) + "\n")
    if task_result(reports):
        diagnosed = sum(1 for r in reports if r.diagnoses)
        message = f"psgdiag: {diagnosed} diagnosed install failure(s)"
        out.write(f"##vso[task.complete result=Failed;]{escape_data(message)}\n")


def render_recovered(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Warn about each failed attempt and mark the task SucceededWithIssues."""
    for a in capped(recovered_annotations(reports, options)):
        out.write(command(a) + "\n")
    out.write("##vso[task.complete result=SucceededWithIssues;]psgdiag: passed after a retry\n")
