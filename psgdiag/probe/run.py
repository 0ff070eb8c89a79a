"""`psgdiag probe`: check a NuGet v2 gallery live, step by step, as Install-Module reaches it."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from psgdiag import regexcode
from psgdiag.errors import ExitCode, UsageError
from psgdiag.probe.feed import Entry, step_feed
from psgdiag.probe.http import (
    Session,
    classify,
    fetch,
    open_session,
    read_capped,
    split_credentials,
    status_cause,
    transport_errors,
)
from psgdiag.probe.model import (
    STEP_ORDER,
    Deadline,
    ProbeOptions,
    ProbeResult,
    ProbeTimeout,
    Step,
    StepTimer,
    outcome_cause,
    printable,
)
from psgdiag.probe.net import client_context, step_connect, step_tls, step_tls_legacy
from psgdiag.probe.package import package_url, step_download, step_hash
from psgdiag.probe.route import target_for
from psgdiag.probe.zipcheck import step_zip
from psgdiag.record import replace
from psgdiag.redact import mask_url

_NAME = regexcode.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VERSION = regexcode.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$")

BOOTSTRAP_CAP = 1024 * 1024  # the real provider list is a few KB
_PROVIDER_TAG = regexcode.compile(r"nuget[^/]*\.package\.swidtag$", re.IGNORECASE)
# A verdict of ok rests on these steps having run and passed.
_VERDICT_STEPS = ("feed", "download", "zip")


def run_steps(
    opts: ProbeOptions,
    deadline: Deadline,
    steps: list[Step],
    facts: dict[str, object],
    tmp: Path,
) -> None:
    """Run every step that applies, appending to steps; the first failure stops the chain.

    The package is downloaded into tmp, a folder the caller owns and removes.
    """
    repo, _ = split_credentials(opts.repository)
    target = target_for(repo, opts.proxy)
    ctx = client_context()
    proxy_scheme = urlsplit(target.proxy).scheme if target.proxy else "http"
    if proxy_scheme != "http":
        note = f"through a {proxy_scheme}:// proxy: checked by the feed request instead"
        steps.extend(Step(n, "skip", note) for n in ("connect", "tls", "tls-legacy"))
    else:
        steps.append(step_connect(target, deadline))
        if steps[-1].ok and target.scheme == "https":
            steps.append(step_tls(target, deadline))
            steps.append(step_tls_legacy(target, deadline))
        elif steps[-1].ok:
            note = "plain http:// repository: no TLS to check"
            steps.extend(Step(n, "skip", note) for n in ("tls", "tls-legacy"))
    if all(s.ok for s in steps):
        with open_session(opts.repository, opts.proxy, ctx) as session:
            _package_steps(session, repo, opts, deadline, steps, facts, tmp)
    if opts.bootstrap:
        steps.append(_guard("bootstrap", lambda: step_bootstrap(opts, deadline)))


def _guard(name: str, run: Callable[[], Step]) -> Step:
    """Run a step; a transport error becomes that step's failure, with its cause."""
    timer = StepTimer()
    try:
        return run()
    except ProbeTimeout:
        raise
    except transport_errors() as exc:
        cause, why = classify(exc)
        return Step(name, "fail", why, timer.ms(), cause)


def _package_steps(
    session: Session,
    repo: str,
    opts: ProbeOptions,
    deadline: Deadline,
    steps: list[Step],
    facts: dict[str, object],
    tmp: Path,
) -> None:
    found: list[Entry] = []

    def feed() -> Step:
        step, entry = step_feed(session, repo, opts.module, opts.version, deadline, facts)
        if entry is not None:
            found.append(entry)
            facts["version"] = entry.version
        return step

    steps.append(_guard("feed", feed))
    if not found:
        return
    entry = found[0]
    dest = tmp / "package.nupkg"
    steps.append(step_download(session, package_url(repo, entry), entry, dest, deadline, facts))
    if not (steps[-1].ok or steps[-1].cause == outcome_cause("package-damaged")):
        return
    if not dest.exists() or dest.stat().st_size == 0:
        why = "nothing arrived to check"
        steps.extend(Step(n, "skip", why) for n in ("zip", "hash"))
        return
    # A short download is still checked: the zip and hash steps show what broke.
    steps.append(step_zip(dest, entry, deadline))
    steps.append(step_hash(dest, entry, deadline))


def step_bootstrap(opts: ProbeOptions, deadline: Deadline) -> Step:
    """Fetch the NuGet provider bootstrap list (fwlink -> swidtag) and the NuGet provider tag."""
    timer = StepTimer()
    ctx = client_context()
    with open_session(opts.bootstrap_url, opts.proxy, ctx, credentials=False) as session:
        fetched = fetch(session, opts.bootstrap_url, deadline)
        route = " -> ".join(fetched.hosts)
        with closing(fetched.response) as resp:
            cause = status_cause(resp.status_code, listing=False)
            if cause:
                detail = f"{route}: {resp.status_code} {resp.reason_phrase}"
                return Step("bootstrap", "fail", detail, timer.ms(), cause)
            body = read_capped(fetched, BOOTSTRAP_CAP, deadline)
            final = str(resp.url)
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            detail = f"{route}: 200 but the provider list is not XML ({exc})"
            return Step("bootstrap", "fail", detail, timer.ms(), outcome_cause("service-error"))
        links = [el.get("href", "") for el in root.iter() if el.get("href")]
        detail = f"{route}: 200, provider list with {len(links)} links"
        provider = next((h for h in links if _PROVIDER_TAG.search(h)), None)
        if provider:
            provider_url = str(fetched.response.url.join(provider)) if final else provider
            tag = fetch(session, provider_url, deadline)
            with closing(tag.response) as resp:
                host = urlsplit(provider_url).hostname
                detail += f"; {provider_url.rsplit('/', 1)[-1]} from {host}: {resp.status_code}"
                cause = status_cause(resp.status_code, listing=False)
                if cause:
                    return Step("bootstrap", "fail", detail, timer.ms(), cause)
    return Step("bootstrap", "pass", detail, timer.ms(), data={"links": len(links)})


def validate(opts: ProbeOptions) -> ProbeOptions:
    """Reject bad options with a UsageError; return the options with the repository trimmed."""
    if not _NAME.match(opts.module):
        raise UsageError(
            f"invalid module name {opts.module!r}",
            hint="use the module's name as on the gallery, e.g. PSReadLine",
        )
    if opts.version is not None and not _VERSION.match(opts.version):
        raise UsageError(f"invalid version {opts.version!r}", hint="e.g. --version 2.3.5")
    urls = [("--repository", opts.repository), ("--proxy", opts.proxy or "")]
    urls.append(("--bootstrap-url", opts.bootstrap_url if opts.bootstrap else ""))
    for label, url in urls:
        if not url and label != "--repository":
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"{label} must be an http:// or https:// URL, not {mask_url(url)!r}",
                hint="e.g. https://www.powershellgallery.com/api/v2",
            )
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise UsageError(f"{label} has an invalid port: {mask_url(url)!r}") from None
    if urlsplit(opts.repository).path.rstrip("/").lower().endswith("index.json"):
        raise UsageError(
            "the probe speaks NuGet v2, as PowerShellGet does; a v3 service index is not supported",
            hint="give the feed's v2 URL, e.g. https://www.powershellgallery.com/api/v2",
        )
    if not 0 < opts.timeout <= 3600:
        raise UsageError("--timeout must be between 0 and 3600 seconds", hint="e.g. --timeout 30")
    return ProbeOptions(
        module=opts.module,
        version=opts.version,
        repository=opts.repository.rstrip("/"),
        proxy=opts.proxy,
        timeout=opts.timeout,
        bootstrap=opts.bootstrap,
        bootstrap_url=opts.bootstrap_url,
        legacy_client=opts.legacy_client,
    )


def run_probe(opts: ProbeOptions) -> ProbeResult:
    """Probe the repository; never takes (much) longer than opts.timeout.

    The download folder belongs to this thread: it is removed on return, on a timeout and on
    Ctrl-C alike, even while the worker is still writing into it.
    """
    opts = validate(opts)
    deadline = Deadline(opts.timeout)
    steps: list[Step] = []
    facts: dict[str, object] = {}
    tmp = Path(tempfile.mkdtemp(prefix="psgdiag-probe-"))
    try:
        # The work runs in a daemon thread so that a call no timeout covers (a hung DNS lookup)
        # cannot hold the command past its deadline: the main thread stops waiting and reports.
        worker = threading.Thread(
            target=_work,
            args=(opts, deadline, steps, facts, tmp),
            name="psgdiag-probe",
            daemon=True,
        )
        worker.start()
        worker.join(opts.timeout + 1.0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timed_out = worker.is_alive()
    error = facts.get("error")
    if not timed_out and isinstance(error, BaseException):
        raise error  # a bug or a set-up problem, never a silent "ok"
    done = list(steps)
    if timed_out:
        done.append(
            Step(
                "deadline",
                "fail",
                f"the overall --timeout of {opts.timeout:g} s ran out before the probe finished",
                int(opts.timeout * 1000),
                cause=outcome_cause("unreachable"),
            )
        )
    return _result(opts, done, facts, timed_out)


def _work(
    opts: ProbeOptions,
    deadline: Deadline,
    steps: list[Step],
    facts: dict[str, object],
    tmp: Path,
) -> None:
    try:
        run_steps(opts, deadline, steps, facts, tmp)
    except ProbeTimeout as exc:
        steps.append(Step("deadline", "fail", str(exc), cause=outcome_cause("unreachable")))
    except Exception as exc:  # handed to the main thread, which raises it
        facts["error"] = exc


def _result(
    opts: ProbeOptions, steps: list[Step], facts: dict[str, object], timed_out: bool
) -> ProbeResult:
    steps = [replace(s, detail=printable(s.detail, 1000)) for s in _complete(steps, opts)]
    failed = next((s for s in steps if s.status == "fail"), None)
    findings = tuple(s.finding for s in steps if s.finding)
    if failed is not None and failed.cause:
        verdict = failed.cause
    elif opts.legacy_client and findings:
        verdict = findings[0]
    else:
        verdict = "ok"
        unchecked = [s.name for s in steps if s.name in _VERDICT_STEPS and s.status != "pass"]
        if unchecked:  # a bug: every path that skips them fails a step first
            raise RuntimeError(f"probe: no failure, but {', '.join(unchecked)} did not pass")
    version = facts.get("version")
    retry_after = facts.get("retry_after")
    cdn = facts.get("cdn_host")
    return ProbeResult(
        options=opts,
        steps=tuple(steps),
        verdict=verdict,
        version=version if isinstance(version, str) else opts.version,
        findings=findings,
        retry_after=retry_after if isinstance(retry_after, str) else None,
        cdn_host=cdn if isinstance(cdn, str) else None,
        timed_out=timed_out,
    )


def _complete(steps: list[Step], opts: ProbeOptions) -> list[Step]:
    """Every step in its place: the ones not run are 'not reached'; a deadline step goes last."""
    by_name = {s.name: s for s in steps}
    wanted = [n for n in STEP_ORDER if n != "bootstrap" or opts.bootstrap]
    done = [
        by_name.get(n) or Step(n, "skip", "not reached: an earlier step failed or time ran out")
        for n in wanted
    ]
    return done + [s for s in steps if s.name not in wanted]


def exit_code(result: ProbeResult) -> ExitCode:
    """0 when all is well, 3 for a service-side or transient problem, 1 for client/network."""
    if result.verdict == "ok":
        return ExitCode.OK
    return ExitCode.RETRY if result.side == "service" else ExitCode.FIX
