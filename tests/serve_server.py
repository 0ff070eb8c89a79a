"""Start the real `psgdiag serve` on 127.0.0.1 (a free port) for the tests, and stop it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from tests.conftest import ROOT

START_TIMEOUT = 90.0
_LISTENING = re.compile(r"listening on (http://\S+/)")


@dataclass
class RunningServer:
    """A server process, its base URL, and everything it wrote to stderr so far."""

    process: subprocess.Popen[str]
    url: str
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def stderr(self) -> str:
        """Everything the server logged."""
        return "".join(self.stderr_lines)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until /healthz answers 200 (every diagnosis process up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not healthy in {timeout} s:\n{self.stderr}")


def _pump(stream: object, sink: list[str], ready: threading.Event) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(line)
        if _LISTENING.search(line):
            ready.set()
    ready.set()  # the process ended: stop waiting


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """Run `psgdiag serve --port 0 ARGS...`; yield once it is healthy; stop it with SIGTERM."""
    full_env = {k: v for k, v in os.environ.items() if k != "PSGDIAG_SERVE_TOKEN"}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    proc = subprocess.Popen(
        [sys.executable, "-m", "psgdiag", "serve", "--host", "127.0.0.1", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=ROOT,
    )
    lines: list[str] = []
    ready = threading.Event()
    pump = threading.Thread(target=_pump, args=(proc.stderr, lines, ready), daemon=True)
    pump.start()
    try:
        ready.wait(START_TIMEOUT)
        found = _LISTENING.search("".join(lines))
        if found is None:
            raise AssertionError("server did not start:\n" + "".join(lines))
        server = RunningServer(proc, found.group(1), lines)
        server.wait_healthy()
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        pump.join(10)
