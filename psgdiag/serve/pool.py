"""Where diagnoses run: a pool of diagnosis processes, or the server process itself.

Diagnosis is CPU-bound Python, so the pool is what puts a second core to work. Each process
loads the knowledge base once (psgdiag.serve.jobs.serve_jobs) and answers one job at a time over
its own pipe. A job that outlives the time limit has its process killed and replaced: a hostile
input cannot keep a core busy after its request has been answered. In-process mode (`--jobs 0`,
for several uvicorn workers instead) cannot stop a running diagnosis: the request is answered
at the limit, but the work finishes in the background.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Protocol

from psgdiag.errors import KbError
from psgdiag.serve.jobs import Answer, Job, JobFailure, Loaded, answer, load
from psgdiag.serve.worker import Ready, serve_jobs, warm_up

#: How long a new diagnosis process may take to import psgdiag and load the knowledge base.
START_TIMEOUT = 120.0


class TimeLimitExceeded(Exception):
    """The diagnosis took longer than the server's time limit."""


class ServerBusy(Exception):
    """No diagnosis process became free within the time limit."""


class WorkerLost(Exception):
    """The diagnosis process died while answering (killed or out of memory)."""


class Diagnoser(Protocol):
    """Runs jobs: the server's only way to diagnose."""

    kb_version: str

    @property
    def alive(self) -> int:
        """How many diagnosis processes are running (0 in the server process' own mode)."""

    async def start(self) -> None:
        """Load the knowledge base (raise KbError when it is invalid)."""

    async def run(self, job: Job) -> Answer | JobFailure:
        """Answer a job within the time limit, or raise one of the exceptions above."""

    async def close(self) -> None:
        """Stop every process or thread this diagnoser started."""


class _JobProcess:
    """One diagnosis process and the parent's end of its pipe."""

    def __init__(self, ctx: SpawnContext, sig_dirs: tuple[str, ...]) -> None:
        parent, child = ctx.Pipe()
        self.process: SpawnProcess = ctx.Process(
            target=serve_jobs, args=(child, sig_dirs), name="psgdiag-serve-job", daemon=True
        )
        self.process.start()
        child.close()
        self.conn: Connection = parent

    def wait_ready(self) -> Ready | JobFailure:
        """Block until the process has loaded the knowledge base (or failed to)."""
        if not self.conn.poll(START_TIMEOUT):
            return JobFailure(500, "a diagnosis process did not start in time")
        reply = self.conn.recv()
        assert isinstance(reply, Ready | JobFailure)
        return reply

    def ask(self, job: Job, limit: float) -> Answer | JobFailure | None:
        """Send a job and wait for its answer; None when the time limit passed first."""
        self.conn.send(job)
        if not self.conn.poll(limit):
            return None
        reply = self.conn.recv()
        assert isinstance(reply, Answer | JobFailure)
        return reply

    def stop(self, *, close_pipe: bool = True) -> None:
        """Kill the process (a job may be running); close the pipe unless a thread reads it."""
        self.process.kill()
        self.process.join(5)
        if close_pipe:
            self.conn.close()


class ProcessDiagnoser:
    """A fixed number of diagnosis processes; a job waits for a free one."""

    def __init__(self, size: int, sig_dirs: tuple[str, ...], time_limit: float) -> None:
        self.size = size
        self.kb_version = ""
        self._sig_dirs = sig_dirs
        self._limit = time_limit
        # spawn, not fork: the server process runs threads and an event loop.
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_JobProcess] = asyncio.Queue()
        self._all: set[_JobProcess] = set()
        self._waiters = ThreadPoolExecutor(size, thread_name_prefix="psgdiag-serve-wait")

    def _started(self) -> _JobProcess:
        """Start one process and wait until it is ready (blocking; run in a thread)."""
        worker = _JobProcess(self._ctx, self._sig_dirs)
        reply = worker.wait_ready()
        if isinstance(reply, JobFailure):
            worker.stop()
            raise KbError([reply.error])
        self.kb_version = reply.kb_version
        return worker

    async def start(self) -> None:
        """Start every process at once and wait for all of them."""
        loop = asyncio.get_running_loop()
        started = await asyncio.gather(
            *(loop.run_in_executor(None, self._started) for _ in range(self.size)),
            return_exceptions=True,
        )
        for item in started:
            if isinstance(item, _JobProcess):
                self._all.add(item)
                self._idle.put_nowait(item)
        failure = next((e for e in started if isinstance(e, BaseException)), None)
        if failure is not None:
            await self.close()
            raise failure

    def _replace(self, worker: _JobProcess, *, close_pipe: bool = True) -> None:
        """Kill a process and start its replacement in the background."""
        self._all.discard(worker)
        worker.stop(close_pipe=close_pipe)
        future = asyncio.get_running_loop().run_in_executor(None, self._started)

        def ready(done: asyncio.Future[_JobProcess]) -> None:
            if done.cancelled() or done.exception() is not None:
                sys.stderr.write("psgdiag serve: a diagnosis process could not be restarted\n")
                return
            self._all.add(done.result())
            self._idle.put_nowait(done.result())

        future.add_done_callback(ready)

    async def run(self, job: Job) -> Answer | JobFailure:
        """Answer a job in a free process within the time limit."""
        try:
            worker = await asyncio.wait_for(self._idle.get(), self._limit)
        except TimeoutError:
            raise ServerBusy from None
        loop = asyncio.get_running_loop()
        try:
            reply = await loop.run_in_executor(self._waiters, worker.ask, job, self._limit)
        except (EOFError, OSError):
            self._replace(worker)
            raise WorkerLost from None
        except BaseException:
            # Cancelled mid-job (the server is stopping): the waiting thread still holds the
            # pipe, and sees it end when the process is killed.
            self._replace(worker, close_pipe=False)
            raise
        if reply is None:
            self._replace(worker)
            raise TimeLimitExceeded
        self._idle.put_nowait(worker)
        return reply

    @property
    def alive(self) -> int:
        """How many diagnosis processes are running."""
        return sum(1 for w in self._all if w.process.is_alive())

    async def close(self) -> None:
        """Stop every process."""
        for worker in list(self._all):
            worker.stop()
        self._all.clear()
        self._waiters.shutdown(wait=False, cancel_futures=True)


class InlineDiagnoser:
    """Diagnoses in the server process, one at a time, on a thread of its own."""

    def __init__(self, sig_dirs: tuple[str, ...], time_limit: float) -> None:
        self.kb_version = ""
        self._sig_dirs = sig_dirs
        self._limit = time_limit
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="psgdiag-serve-diagnose")
        self._state: Loaded | None = None

    async def start(self) -> None:
        """Load the knowledge base once."""
        loop = asyncio.get_running_loop()
        self._state = await loop.run_in_executor(self._thread, load, self._sig_dirs)
        await loop.run_in_executor(self._thread, warm_up, self._state)
        self.kb_version = self._state.kb.version

    async def run(self, job: Job) -> Answer | JobFailure:
        """Answer a job; at the time limit the request is answered, the work runs on."""
        assert self._state is not None, "start() first"
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._thread, answer, job, self._state)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._limit)
        except TimeoutError:
            raise TimeLimitExceeded from None

    @property
    def alive(self) -> int:
        """Diagnosis processes running: none of its own."""
        return 0

    async def close(self) -> None:
        """Let the thread finish what it runs."""
        self._thread.shutdown(wait=False, cancel_futures=True)
