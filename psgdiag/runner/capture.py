"""Run one child: stream its output through unchanged, keep a bounded copy, relay signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from types import FrameType
from typing import BinaryIO

# 2 MiB in all: the versions and transcript header are at the start, the error records at the
# end. Diagnosis time grows with the kept size (about 4 s per MiB of -Verbose noise today).
HEAD_LIMIT = 256 * 1024
TAIL_LIMIT = 1792 * 1024
# A "line" longer than this (a progress bar redrawn with CR, a binary blob) is kept in pieces.
LINE_LIMIT = 64 * 1024
READ_SIZE = 64 * 1024


class Capture:
    """A bounded copy of a child's output: the first and the last few MB, in whole lines."""

    def __init__(self, head_limit: int = HEAD_LIMIT, tail_limit: int = TAIL_LIMIT) -> None:
        self._lock = threading.Lock()
        self._head_limit = head_limit
        self._tail_limit = tail_limit
        self._head = bytearray()
        self._head_full = False
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.dropped_bytes = 0
        self.dropped_lines = 0
        self.total_bytes = 0
        self._partial: dict[str, bytearray] = {}

    @property
    def truncated(self) -> bool:
        """Return True when part of the output was not kept."""
        return self.dropped_bytes > 0

    def feed(self, stream: str, chunk: bytes) -> None:
        """Add a chunk from one stream; whole lines only, so two streams never mix mid-line."""
        buf = self._partial.setdefault(stream, bytearray())
        buf += chunk
        cut = buf.rfind(b"\n")
        if cut >= 0:
            self._add(bytes(buf[: cut + 1]))
            del buf[: cut + 1]
        elif len(buf) > LINE_LIMIT:
            self._add(bytes(buf))
            buf.clear()

    def close(self, stream: str) -> None:
        """Flush a stream's unfinished last line (ending it with a newline in the copy)."""
        buf = self._partial.pop(stream, None)
        if buf:
            self._add(bytes(buf) + b"\n")

    def _add(self, data: bytes) -> None:
        with self._lock:
            self.total_bytes += len(data)
            if not self._head_full:
                room = self._head_limit - len(self._head)
                if len(data) <= room:
                    self._head += data
                    return
                cut = data.rfind(b"\n", 0, room) + 1
                self._head += data[:cut]
                data = data[cut:]
                self._head_full = True
            self._tail.append(data)
            self._tail_size += len(data)
            self._trim()

    def _trim(self) -> None:
        while self._tail_size > self._tail_limit and self._tail:
            first = self._tail[0]
            excess = self._tail_size - self._tail_limit
            end = len(first) if len(first) <= excess else first.find(b"\n", excess - 1) + 1
            if end <= 0 or end >= len(first):
                self._tail.popleft()
                end = len(first)
            else:
                self._tail[0] = first[end:]
            self._drop(first[:end])

    def _drop(self, data: bytes) -> None:
        self._tail_size -= len(data)
        self.dropped_bytes += len(data)
        self.dropped_lines += data.count(b"\n")

    def snapshot(self) -> bytes:
        """Return the kept copy; a marker line stands where output was left out."""
        with self._lock:
            parts = [bytes(self._head)]
            if self.truncated:
                parts.append(
                    f"[psgdiag: {self.dropped_lines} lines ({self.dropped_bytes} bytes) of "
                    "output were not kept here]\n".encode("ascii")
                )
            parts.extend(self._tail)
            return b"".join(parts)


class StartError(Exception):
    """The command could not be started (not found, not executable)."""


def _terminal_delivers_sigint() -> bool:
    """True when a Ctrl-C typed at the terminal already reaches the child by itself."""
    if os.name == "nt":
        return True  # every process attached to the console receives the Ctrl-C event
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


class SignalRelay:
    """Passes SIGINT / SIGTERM / SIGHUP received by psgdiag on to the running child."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.received = 0
        self.stop = threading.Event()
        self._old: dict[int, object] = {}
        self._tty_sigint = False

    def __enter__(self) -> SignalRelay:
        self._tty_sigint = _terminal_delivers_sigint()
        names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
        for sig in (getattr(signal, n) for n in names if hasattr(signal, n)):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):  # not the main thread, or not settable here
                continue
        return self

    def __exit__(self, *_: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signum
        self.stop.set()
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        if signum == signal.SIGINT and self._tty_sigint:
            return  # the terminal sent it to the whole foreground group, the child included
        try:
            if os.name == "nt":
                proc.terminate()
            else:
                proc.send_signal(signum)
        except OSError:
            pass


def _pump(src: BinaryIO, dst: BinaryIO, name: str, capture: Capture) -> None:
    fd = src.fileno()
    broken = False
    while chunk := os.read(fd, READ_SIZE):
        if not broken:
            try:
                dst.write(chunk)
                dst.flush()
            except (BrokenPipeError, OSError, ValueError):
                broken = True  # keep draining so the child never blocks on a full pipe
        capture.feed(name, chunk)
    capture.close(name)


def run_child(
    argv: Sequence[str],
    out: BinaryIO,
    err: BinaryIO,
    capture: Capture,
    relay: SignalRelay,
) -> int:
    """Run the command, teeing stdout/stderr; return its exit code (128+N after signal N)."""
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise StartError(exc.strerror or str(exc)) from None
    relay.proc = proc
    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, out, "stdout", capture), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err, "stderr", capture), daemon=True),
    ]
    for t in threads:
        t.start()
    code = proc.wait()
    for t in threads:
        t.join()
    proc.stdout.close()
    proc.stderr.close()
    relay.proc = None
    return 128 - code if code < 0 else code


def binary_streams() -> tuple[BinaryIO, BinaryIO]:
    """Return psgdiag's own stdout/stderr as binary streams (text layers flushed first)."""
    sys.stdout.flush()
    sys.stderr.flush()
    return sys.stdout.buffer, sys.stderr.buffer
