"""`explain --probe`: probe the module and repository a log names, and fold the verdict in."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from psgdiag import regexcode
from psgdiag.api import verdict_of
from psgdiag.errors import PsgdiagError, UsageError
from psgdiag.model import Fault, ProbeCheck, Report
from psgdiag.probe.model import (
    DEFAULT_BOOTSTRAP_URL,
    DEFAULT_MODULE,
    DEFAULT_REPOSITORY,
    ProbeOptions,
    ProbeResult,
)
from psgdiag.probe.render import masked, to_dict
from psgdiag.probe.run import run_probe, validate
from psgdiag.record import replace

# Where a NuGet v2 request URL stops naming the feed and starts naming an operation.
_FEED_OPERATION = regexcode.compile(
    r"/(?:FindPackagesById\(|Packages\(|package/|Search\(|GetUpdates\(|\$metadata)", re.IGNORECASE
)
_PACKAGE_URL = regexcode.compile(r"/package/([^/?#]+)/([^/?#]+)", re.IGNORECASE)
_FEED_ROOT = regexcode.compile(r"/api/v\d+/?$", re.IGNORECASE)
_MODULE = regexcode.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Steps that look at the package's bytes as served, rather than at the way there.
_CONTENT_STEPS = frozenset({"zip", "hash", "download"})


def repository_from(report: Report) -> str | None:
    """The feed URL behind the request URLs in the log (or its repository fact), if any."""
    urls = [report.facts.first("repository") or ""] + [u.value for u in report.facts.urls]
    web = [u for u in urls if u.lower().startswith(("http://", "https://"))]
    for url in web:
        m = _FEED_OPERATION.search(url)
        if m:
            return url[: m.start()]
    for url in web:
        if _FEED_ROOT.search(url):
            return url.rstrip("/")
    return None


def _names_bootstrap(report: Report) -> bool:
    boot = urlsplit(DEFAULT_BOOTSTRAP_URL)
    for fact in report.facts.urls:
        p = urlsplit(fact.value)
        if (p.hostname, p.path) == (boot.hostname, boot.path) or p.path.endswith(".swidtag"):
            return True
    return False


def target_of(report: Report) -> tuple[str, str | None]:
    """The module the top diagnosis is about (else the log's), and its version when known."""
    bound = dict(report.diagnoses[0].variables) if report.diagnoses else {}
    logged = report.facts.first("module") or ""
    module = bound.get("module") or logged
    if not _MODULE.match(module):
        return DEFAULT_MODULE, None
    # A download URL names the exact id and version the client fetched.
    for fact in report.facts.urls:
        m = _PACKAGE_URL.search(fact.value)
        if m and unquote(m.group(1)).lower() == module.lower():
            return module, unquote(m.group(2))
    # The log's version belongs to the log's module, not necessarily to a dependency.
    same = module.lower() == logged.lower()
    return module, report.facts.first("module_version") if same else None


def options_for(report: Report, *, timeout: float = 30.0, proxy: str | None = None) -> ProbeOptions:
    """What to probe for this report: its module, version and repository, else the defaults."""
    module, version = target_of(report)
    return ProbeOptions(
        module=module if _MODULE.match(module) else DEFAULT_MODULE,
        version=version,
        repository=repository_from(report) or DEFAULT_REPOSITORY,
        proxy=proxy,
        timeout=timeout,
        bootstrap=_names_bootstrap(report),
    )


def fold_probe(report: Report, *, timeout: float = 30.0, proxy: str | None = None) -> Report:
    """Probe what the log names now; set report.probe and note the outcome on the top diagnosis."""
    opts = options_for(report, timeout=timeout, proxy=proxy)
    try:
        validate(opts)
    except UsageError:
        opts = replace(opts, version=None)  # a version string the probe cannot use
    try:
        result = run_probe(opts)
    except PsgdiagError as exc:
        note = f"probe not run: {exc.message}"
        probe = ProbeCheck(note=note, error=exc.message)
        return replace(report, probe=probe, notes=(*report.notes, note))
    note = fold_note(report, result)
    probe = ProbeCheck(note=note, verdict=result.verdict, document=to_dict(result))
    if not report.diagnoses:
        return replace(report, probe=probe)
    top = report.diagnoses[0]
    cause = top.signature.id
    failed = result.failed
    changes: dict[str, object] = {"notes": (*top.notes, f"probe now: {note}")}
    if result.verdict == cause and failed is not None and failed.name in _CONTENT_STEPS:
        # Reproduced from here, in the package's own bytes: not the failing machine's fault.
        changes.update(fault=Fault.PACKAGE, transient=False)
    folded = replace(top, **changes)
    diagnoses = (folded, *report.diagnoses[1:])
    # The verdict (and so explain's exit code) follows the folded side, as the card does.
    return replace(report, probe=probe, diagnoses=diagnoses, verdict=verdict_of(diagnoses))


def fold_note(report: Report, result: ProbeResult) -> str:
    """One sentence: is the problem the log shows still there now, seen from here?"""
    what = result.options.module + (f" {result.version}" if result.version else "")
    where = masked(result.options.repository)
    cause = report.diagnoses[0].signature.id if report.diagnoses else None
    failed = result.failed
    finding = next((s for s in result.steps if cause and s.finding == cause), None)
    if failed is None and finding is not None:
        # Healthy for this machine's client, but refusing what the failing client offered.
        return (
            f"still failing now for a client like the one in the log: the {finding.name} step "
            f"finds {cause} ({finding.detail}); from here, with a current client, {what} "
            "installs fine."
        )
    if result.verdict == "ok" or failed is None:
        tail = (
            "so the failure was a passing fault (a CDN, proxy or network fault) or belongs to the "
            "machine that failed"
            if cause
            else "so the gallery is not the problem"
        )
        return f"fine now: {what} downloads and checks out intact from {where}, {tail}."
    if result.verdict == cause:
        if failed.name in _CONTENT_STEPS:
            return (
                f"still failing now ({result.verdict} at the {failed.name} step: "
                f"{failed.detail}): the package itself as {where} serves it, not the failing "
                "machine or its network."
            )
        return f"still failing now ({result.verdict} at {failed.name}: {failed.detail})."
    return f"now finds {result.verdict} at the {failed.name} step instead ({failed.detail})."
