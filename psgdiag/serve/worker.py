"""The main loop of a diagnosis process: load once, then answer jobs until the pipe closes."""

from __future__ import annotations

import signal
from multiprocessing.connection import Connection

from psgdiag.errors import PsgdiagError
from psgdiag.record import record
from psgdiag.serve.jobs import (
    ExplainJob,
    JobFailure,
    Loaded,
    PageJob,
    TriageJob,
    Upload,
    answer,
    load,
)


@record
class Ready:
    """Sent once by a diagnosis process when it has loaded the knowledge base."""

    kb_version: str


def warm_up(state: Loaded) -> None:
    """Run each kind of job once, so the first request is not the one that imports and warms."""
    sample = "Install-Module warm-up"
    answer(ExplainJob(sample.encode(), "warm-up"), state)
    answer(PageJob(sample), state)
    answer(TriageJob((Upload("warm-up.log", sample.encode()),)), state)


def serve_jobs(conn: Connection, sig_dirs: tuple[str, ...]) -> None:
    """Main loop of a diagnosis process: load once, answer jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    try:
        state = load(sig_dirs)
    except PsgdiagError as exc:
        conn.send(JobFailure(500, exc.message, exc.hint))
        return
    warm_up(state)
    conn.send(Ready(state.kb.version))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(answer(job, state))
