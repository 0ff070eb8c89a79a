"""The CI wrapper: run a command, diagnose its failures, and retry only what a retry can fix.

Whether to retry is read from the diagnosis (its `transient` flag, its side, a live incident),
never from a list of cause ids: the knowledge base decides, the runner only applies it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Sequence
from typing import BinaryIO

from psgdiag import regexcode
from psgdiag.model import Fault, Report
from psgdiag.record import record, replace
from psgdiag.runner.capture import Capture, SignalRelay, StartError, run_child

EXIT_CANNOT_START = 127

_RETRY_AFTER = regexcode.compile(
    r"(?i)\bRetry-After\s*[:=]\s*(?:(\d{1,7})\b|([A-Z][a-z]{2}, .{20,25}GMT))"
)


@record
class RetryPolicy:
    """How often and how long to wait: exponential backoff from `delay`, capped at `max_delay`."""

    retries: int = 0
    delay: float = 10.0
    max_delay: float = 300.0

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the wait before the next attempt (1-based `attempt` just failed)."""
        wait = float(self.delay * 2 ** (attempt - 1))
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(0.0, min(wait, self.max_delay))


@record
class Decision:
    """Whether to run the command again, and the reason shown to the user."""

    retry: bool
    reason: str
    retry_after: float | None = None


@record
class Attempt:
    """One run of the command."""

    number: int
    code: int
    report: Report | None = None
    decision: Decision | None = None
    wait: float = 0.0


@record
class RunResult:
    """Every attempt, and the exit code the wrapper exits with (the command's own)."""

    code: int
    attempts: tuple[Attempt, ...]
    interrupted: bool = False
    start_error: str = ""

    @property
    def last_report(self) -> Report | None:
        """Return the report of the final attempt when it failed and was diagnosed."""
        return self.attempts[-1].report if self.attempts else None

    @property
    def recovered(self) -> tuple[Report, ...]:
        """Return the reports of failed attempts when a later attempt succeeded."""
        if not self.attempts or self.code != 0:
            return ()
        return tuple(a.report for a in self.attempts[:-1] if a.report is not None)


def retry_after_seconds(report: Report, now: dt.datetime) -> float | None:
    """Return the last Retry-After the output shows (seconds or an HTTP date), or None."""
    found: float | None = None
    for line in report.document.lines:
        m = _RETRY_AFTER.search(line.text)
        if not m:
            continue
        if m.group(1):
            found = float(m.group(1))
            continue
        try:
            when = email.utils.parsedate_to_datetime(m.group(2))
        except (TypeError, ValueError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        found = max(0.0, (when - now).total_seconds())
    return found


def decide(report: Report, now: dt.datetime) -> Decision:
    """Retry when the best diagnosis is transient, service-side, or inside a live incident."""
    if not report.diagnoses:
        return Decision(False, "no known cause recognised, so a retry would be a guess")
    top = report.diagnoses[0]
    cause = top.signature.id
    incident = top.incident if top.incident is not None and not top.incident.permanent else None
    if incident is not None:
        reason = f"{cause} during incident {incident.id}"
    elif top.fault == Fault.SERVICE:
        reason = f"{cause} is on the service side"
    elif top.transient:
        reason = f"{cause} is usually transient"
    else:
        return Decision(False, f"{cause} needs a fix ({top.fault.value} side); a retry cannot help")
    return Decision(True, reason, retry_after_seconds(report, now))


def with_capture_note(report: Report, capture: Capture) -> Report:
    """Add a note to the report when the kept copy of the output was cut."""
    if not capture.truncated:
        return report
    note = (
        f"the output was {capture.total_bytes} bytes; {capture.dropped_lines} lines in the middle "
        "were not kept for diagnosis, so line numbers after the marker count from the kept copy"
    )
    return replace(report, notes=(*report.notes, note))


Diagnose = Callable[[bytes, dt.datetime], Report]


@record
class Streams:
    """Where the child's output goes and where the wrapper's own progress notes go."""

    out: BinaryIO
    err: BinaryIO
    notify: Callable[[str], None]


def run_with_retries(
    argv: Sequence[str],
    policy: RetryPolicy,
    diagnose: Diagnose,
    streams: Streams,
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    capture_factory: Callable[[], Capture] = Capture,
) -> RunResult:
    """Run the command, diagnosing each failure and retrying while the diagnosis says it helps."""
    attempts: list[Attempt] = []
    with SignalRelay() as relay:
        for number in range(1, policy.retries + 2):
            capture = capture_factory()
            try:
                code = run_child(argv, streams.out, streams.err, capture, relay)
            except StartError as exc:
                return RunResult(EXIT_CANNOT_START, tuple(attempts), start_error=str(exc))
            if code == 0 or relay.received:
                attempts.append(Attempt(number, code))
                return RunResult(code, tuple(attempts), interrupted=bool(relay.received))
            now = clock()
            report = _safe_diagnose(diagnose, capture, now, streams.notify)
            decision = decide(report, now) if report is not None else None
            last = number > policy.retries
            wait = 0.0
            if decision is not None and decision.retry and not last:
                wait = policy.backoff(number, decision.retry_after)
            attempts.append(Attempt(number, code, report, decision, wait))
            if decision is None or not decision.retry or last:
                return RunResult(code, tuple(attempts))
            streams.notify(_retry_note(attempts[-1], policy))
            if relay.stop.wait(wait):
                return RunResult(code, tuple(attempts), interrupted=True)
    return RunResult(attempts[-1].code, tuple(attempts))  # pragma: no cover - loop always returns


def _safe_diagnose(
    diagnose: Diagnose, capture: Capture, now: dt.datetime, notify: Callable[[str], None]
) -> Report | None:
    """Diagnose the kept output; a failure here never changes the command's exit code."""
    try:
        return with_capture_note(diagnose(capture.snapshot(), now), capture)
    except Exception as exc:  # the wrapper must still exit with the child's code
        notify(f"could not diagnose the output ({type(exc).__name__}: {exc}); not retrying")
        return None


def _retry_note(attempt: Attempt, policy: RetryPolicy) -> str:
    assert attempt.decision is not None
    d = attempt.decision
    asked = ""
    if d.retry_after is not None:
        asked = f"; the server asked for Retry-After {d.retry_after:g}s"
        if d.retry_after > policy.max_delay:
            asked += f", capped at {policy.max_delay:g}s"
    return (
        f"attempt {attempt.number} of {policy.retries + 1} failed with exit code {attempt.code}: "
        f"{d.reason}{asked}; retrying in {attempt.wait:g}s"
    )
