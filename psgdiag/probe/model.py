"""The probe's records: options, steps, the result, the deadline; and the outcome -> cause table."""

from __future__ import annotations

import time
from functools import lru_cache

from psgdiag import budget
from psgdiag.cache import data_toml
from psgdiag.record import field, record
from psgdiag.render.styled import safe

DEFAULT_REPOSITORY = "https://www.powershellgallery.com/api/v2"
# Small (about 100 KB), published by Microsoft (so it stays listed), released rarely, and
# installed widely: a quick, cheap download that exercises the same path as any module.
DEFAULT_MODULE = "Microsoft.PowerShell.SecretManagement"
DEFAULT_BOOTSTRAP_URL = "https://go.microsoft.com/fwlink/?LinkID=627338&clcid=0x409"
STEP_ORDER = ("connect", "tls", "tls-legacy", "feed", "download", "zip", "hash", "bootstrap")


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
        return "service" if self.verdict in service_side() else "client"


class ProbeTimeout(budget.TimeUp):
    """The overall deadline passed."""


class Deadline(budget.Deadline):
    """The overall time budget of one probe; every wait is capped by what is left."""

    expired = ProbeTimeout


class StepTimer:
    """Measures one step in whole milliseconds."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def ms(self) -> int:
        """Milliseconds since the timer started."""
        return int((time.monotonic() - self.t0) * 1000)


def printable(text: str, limit: int = 300) -> str:
    """Server-chosen text made safe to show: control characters as U+FFFD, at most limit chars.

    A reason phrase, a version or a file name comes from a server the probe does not control;
    an escape sequence in it must never reach the terminal.
    """
    clean = safe(text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "\u2026"


@lru_cache(maxsize=1)
def _outcome_table() -> dict[str, str]:
    return {str(k): str(v) for k, v in data_toml("probe_outcomes.toml")["outcome"].items()}


def outcome_cause(outcome: str) -> str:
    """Return the cause id a probe outcome shows (KeyError for an unknown outcome name)."""
    return _outcome_table()[outcome]


def outcomes() -> dict[str, str]:
    """Return the whole outcome table (for checks)."""
    return dict(_outcome_table())


def service_side() -> frozenset[str]:
    """Causes on the service's side from this probe's point of view.

    A probe that reproduces a damaged download from here settles it as the gallery's (or the
    package's), so those outcomes count as service-side too.
    """
    names = (
        "service-error",
        "certificate-rejected",
        "package-damaged",
        "package-hash-differs",
        "unusable",
    )
    return frozenset(outcome_cause(n) for n in names)
