"""The probe's steps in order, each appended as it finishes (so a deadline keeps what was done)."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

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
from psgdiag.probe.net import client_context, step_connect, step_tls, step_tls_legacy
from psgdiag.probe.outcomes import cause as outcome_cause
from psgdiag.probe.package import package_url, step_download, step_hash, step_zip
from psgdiag.probe.route import target_for
from psgdiag.probe.run import Deadline, ProbeOptions, ProbeTimeout, Step, StepTimer

BOOTSTRAP_CAP = 4 * 1024 * 1024
_PROVIDER_TAG = re.compile(r"nuget[^/]*\.package\.swidtag$", re.IGNORECASE)


def run_steps(
    opts: ProbeOptions, deadline: Deadline, steps: list[Step], facts: dict[str, object]
) -> None:
    """Run every step that applies, appending to steps; the first failure stops the chain."""
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
            _package_steps(session, repo, opts, deadline, steps, facts)
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
    with tempfile.TemporaryDirectory(prefix="psgdiag-probe-") as tmp:
        dest = Path(tmp) / "package.nupkg"
        url = package_url(repo, entry)
        steps.append(step_download(session, url, entry, dest, deadline, facts))
        if not dest.exists() or dest.stat().st_size == 0:
            return
        if steps[-1].ok or steps[-1].cause == outcome_cause("package-damaged"):
            # A short download is still checked: the zip and hash steps show what broke.
            steps.append(step_zip(dest, entry, deadline))
            steps.append(step_hash(dest, entry, deadline))


def step_bootstrap(opts: ProbeOptions, deadline: Deadline) -> Step:
    """Fetch the NuGet provider bootstrap list (fwlink -> swidtag) and the NuGet provider tag."""
    timer = StepTimer()
    with open_session(opts.bootstrap_url, opts.proxy, client_context()) as session:
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
