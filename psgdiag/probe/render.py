"""Print a probe result: a readable report for people, JSON for programs."""

from __future__ import annotations

import io
import json
import shutil
from typing import TYPE_CHECKING, TextIO

from psgdiag.probe.model import ProbeResult
from psgdiag.redact import mask_url

if TYPE_CHECKING:
    from rich.box import Box

_MARK = {"pass": "ok", "fail": "FAIL", "skip": "skip", "note": "note"}
_STYLE = {"pass": "green", "fail": "bold red", "skip": "dim", "note": "yellow"}
_ADVICE = {
    "none": "Nothing wrong from here. If the install still fails on another machine, the cause is "
    "on that machine or its network: run `psgdiag explain` on its output.",
    "service": "The problem is on the gallery's side (or its CDN) and usually passes: retry later, "
    "or pin the last version that installs.",
    "client": "The problem is on this side (this machine, its proxy, firewall or DNS, or the "
    "name and version asked for): fix it here.",
}


def to_dict(result: ProbeResult) -> dict[str, object]:
    """The JSON form of a probe (schema_version 1)."""
    failed = result.failed
    return {
        "schema_version": 1,
        "verdict": result.verdict,
        "side": result.side,
        "summary": summary(result),
        "repository": masked(result.options.repository),
        "module": result.options.module,
        "version": result.version,
        "requested_version": result.options.version,
        "failed_step": failed.name if failed else None,
        "findings": list(result.findings),
        "retry_after": result.retry_after,
        "cdn_host": result.cdn_host,
        "timed_out": result.timed_out,
        "steps": [
            {
                "name": s.name,
                "ok": s.ok,
                "status": s.status,
                "detail": s.detail,
                "ms": s.ms,
                "cause": s.cause,
                **({"finding": s.finding} if s.finding else {}),
                **({"data": s.data} if s.data else {}),
            }
            for s in result.steps
        ],
    }


def masked(url: str) -> str:
    """The URL with any password replaced by ***, for output."""
    return mask_url(url)


def summary(result: ProbeResult) -> str:
    """One or two sentences: what the probe found."""
    what = result.options.module + (f" {result.version}" if result.version else "")
    failed = result.failed
    if result.verdict == "ok":
        hashed = next((s for s in result.steps if s.name == "hash"), None)
        if hashed is not None and hashed.status == "skip":
            return (
                f"{what} resolves, downloads and unpacks intact from here; its hash was not "
                f"checked ({hashed.detail})."
            )
        return f"{what} resolves, downloads and checks out intact from here."
    if failed is None:
        return f"{what} works from here, but an old client would fail: {result.verdict}."
    text = f"{failed.name} failed ({result.verdict}): {failed.detail}"
    hashed = next((s for s in result.steps if s.name == "hash"), None)
    if failed.name in ("download", "zip") and hashed is not None and hashed.status == "pass":
        # The feed hashed these very bytes: the damage predates the upload's hashing.
        text += (
            ". The feed's own hash matches these bytes, so the package is stored broken "
            "(a bad upload), not damaged on the way"
        )
    return text


def render_json(result: ProbeResult, out: TextIO) -> None:
    """Only JSON on stdout."""
    json.dump(to_dict(result), out, indent=2, ensure_ascii=False)
    out.write("\n")


def render_rich(result: ProbeResult, out: TextIO, *, color: bool) -> None:
    """A header, one table row per step, then the verdict and what to do."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    encoding = (getattr(out, "encoding", None) or "utf-8").lower()
    ascii_only = "utf" not in encoding
    buf = io.StringIO()
    con = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        soft_wrap=True,  # sentences stay whole in pipes and files; only the table wraps
        width=shutil.get_terminal_size((120, 24)).columns if color else 120,
        safe_box=True,
    )
    opts = result.options
    what = opts.module + (f" {result.version}" if result.version else "")
    con.print(f"[bold]probe[/] {escape(what)} at {escape(masked(opts.repository))}")
    if opts.proxy:
        con.print(f"[dim]proxy:[/] {escape(masked(opts.proxy))}")
    table = Table(show_header=True, header_style="bold", box=None if ascii_only else _box())
    table.add_column("step", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for step in result.steps:
        mark = _MARK.get(step.status, step.status)
        if step.cause and step.status == "fail":
            mark += f" ({step.cause})"
        style = _STYLE.get(step.status, "")
        ms = str(step.ms) if step.status != "skip" else ""
        table.add_row(step.name, f"[{style}]{escape(mark)}[/]", ms, escape(step.detail))
    con.print(table)
    verdict_style = "bold green" if result.verdict == "ok" else "bold red"
    side = f" ({result.side} side)" if result.verdict != "ok" else ""
    con.print(f"[{verdict_style}]verdict: {escape(result.verdict)}[/]{side}")
    con.print(escape(summary(result)))
    for step in result.steps:
        if step.finding and step.finding != result.verdict:
            con.print(
                f"[yellow]finding:[/] {escape(step.finding)} (step {step.name}): what an older "
                "client would hit; the server's normal state, not a fault here "
                "(--legacy-client makes it the verdict)"
            )
    if result.retry_after:
        con.print(
            f"[yellow]Retry-After:[/] {escape(result.retry_after)} (reported, not waited for)"
        )
    if result.cdn_host:
        con.print(f"[dim]package served by:[/] {escape(result.cdn_host)}")
    con.print(f"[green]hint:[/] {escape(_ADVICE[result.side])}")
    out.write("\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n")


def _box() -> Box:
    from rich import box

    return box.SIMPLE
