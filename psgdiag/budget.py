"""One overall time budget per network command, and work that cannot outlive it.

A per-read timeout does not bound a command: a server that sends one byte per second never
trips it. So each network command gets one Deadline, every wait asks it for what is left, and
the whole fetch-and-parse runs in a worker thread that the command stops waiting for when the
budget is spent (a name lookup has no timeout at all; a parser may be slow). Only the main
thread writes files, so a worker left behind can never change what the command reported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long the main thread waits past the budget for a worker to report on its own.
GRACE = 1.0


class TimeUp(Exception):
    """The overall budget of a command ran out."""


class Deadline:
    """The overall time budget of one command; every wait is capped by what is left."""

    expired: type[TimeUp] = TimeUp

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self.start = time.monotonic()

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.total - (time.monotonic() - self.start))

    def check(self) -> float:
        """Return the seconds left, raising `expired` when none are."""
        left = self.remaining()
        if left <= 0.05:
            raise self.expired(f"the overall --timeout of {self.total:g} s ran out")
        return left


def run_bounded(work: Callable[[], T], deadline: Deadline, *, name: str = "psgdiag-work") -> T:
    """Run work in a daemon thread; return its result or raise its exception.

    Raises TimeUp when the worker has not finished GRACE seconds after the deadline. Ctrl-C
    interrupts the wait at once (KeyboardInterrupt reaches the caller; the daemon thread dies
    with the process).
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            box["error"] = exc

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    worker.join(deadline.remaining() + GRACE)
    if worker.is_alive():
        raise deadline.expired(f"the overall --timeout of {deadline.total:g} s ran out")
    error = box.get("error")
    if isinstance(error, BaseException):
        raise error
    return box["result"]  # type: ignore[return-value]
