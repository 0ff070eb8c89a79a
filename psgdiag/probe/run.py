"""`psgdiag probe`: check a NuGet v2 gallery live, step by step, as Install-Module reaches it."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlsplit

from psgdiag.errors import ExitCode, UsageError
from psgdiag.probe.outcomes import cause as outcome_cause
from psgdiag.record import field, record

DEFAULT_REPOSITORY = "https://www.powershellgallery.com/api/v2"
# Small (about 100 KB), published by Microsoft (so it stays listed), released rarely, and
# installed widely: a quick, cheap download that exercises the same path as any module.
DEFAULT_MODULE = "Microsoft.PowerShell.SecretManagement"
DEFAULT_BOOTSTRAP_URL = "https://go.microsoft.com/fwlink/?LinkID=627338&clcid=0x409"
STEP_ORDER = ("connect", "tls", "tls-legacy", "feed", "download", "zip", "hash", "bootstrap")

# Whose side a failing step's cause is on, from this probe's point of view: a probe that
# reproduces a damaged download from here settles it as the gallery's (or the package's).
SERVICE_SIDE = frozenset(
    {
        outcome_cause("service-error"),
        outcome_cause("certificate-rejected"),
        outcome_cause("package-damaged"),
        outcome_cause("package-hash-differs"),
    }
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$")


@record
class ProbeOptions:
    """What to probe and how."""

    module: str = DEFAULT_MODULE
    version: str | None = None
    repository: str = DEFAULT_REPOSITORY
    proxy: str | None = None
    timeout: float = 30.0
    bootstrap: bool = False
    bootstrap_url: str = DEFAULT_BOOTSTRAP_URL
    legacy_client: bool = False


@record
class Step:
    """One checked step: pass, fail, skip or note, with its cause when it failed."""

    name: str
    status: str  # pass | fail | skip | note
    detail: str
    ms: int = 0
    cause: str | None = None
    finding: str | None = None
    data: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True unless the step failed."""
        return self.status != "fail"


@record
class ProbeResult:
    """The steps run, the verdict, and what was learnt about the package."""

    options: ProbeOptions
    steps: tuple[Step, ...]
    verdict: str
    version: str | None = None
    findings: tuple[str, ...] = ()
    retry_after: str | None = None
    cdn_host: str | None = None
    timed_out: bool = False

    @property
    def failed(self) -> Step | None:
        """The step that decided the verdict, or None when all went well."""
        return next((s for s in self.steps if s.status == "fail"), None)

    @property
    def side(self) -> str:
        """'none', 'service' or 'client' (which includes the network between)."""
        if self.verdict == "ok":
            return "none"
        return "service" if self.verdict in SERVICE_SIDE else "client"


class Deadline:
    """The overall time budget of one probe; every wait is capped by what is left."""

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self.start = time.monotonic()

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.total - (time.monotonic() - self.start))

    def check(self) -> float:
        """Return the seconds left, raising ProbeTimeout when none are."""
        left = self.remaining()
        if left <= 0.05:
            raise ProbeTimeout(f"the overall --timeout of {self.total:g} s ran out")
        return left


class ProbeTimeout(Exception):
    """The overall deadline passed."""


class StepTimer:
    """Measures one step in whole milliseconds."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def ms(self) -> int:
        """Milliseconds since the timer started."""
        return int((time.monotonic() - self.t0) * 1000)


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
                f"{label} must be an http:// or https:// URL, not {url!r}",
                hint="e.g. https://www.powershellgallery.com/api/v2",
            )
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise UsageError(f"{label} has an invalid port: {url!r}") from None
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
    """Probe the repository; never takes (much) longer than opts.timeout."""
    opts = validate(opts)
    deadline = Deadline(opts.timeout)
    steps: list[Step] = []
    facts: dict[str, object] = {}
    # The work runs in a daemon thread so that a call no timeout covers (a hung DNS lookup)
    # cannot hold the command past its deadline: the main thread stops waiting and reports.
    worker = threading.Thread(
        target=_work, args=(opts, deadline, steps, facts), name="psgdiag-probe", daemon=True
    )
    worker.start()
    worker.join(opts.timeout + 1.0)
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
    opts: ProbeOptions, deadline: Deadline, steps: list[Step], facts: dict[str, object]
) -> None:
    from psgdiag.probe.steps import run_steps

    try:
        run_steps(opts, deadline, steps, facts)
    except ProbeTimeout as exc:
        steps.append(Step("deadline", "fail", str(exc), cause=outcome_cause("unreachable")))
    except Exception as exc:  # handed to the main thread, which raises it
        facts["error"] = exc


def _result(
    opts: ProbeOptions, steps: list[Step], facts: dict[str, object], timed_out: bool
) -> ProbeResult:
    steps = _complete(steps, opts)
    failed = next((s for s in steps if s.status == "fail"), None)
    findings = tuple(s.finding for s in steps if s.finding)
    if failed is not None and failed.cause:
        verdict = failed.cause
    elif opts.legacy_client and findings:
        verdict = findings[0]
    else:
        verdict = "ok"
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
