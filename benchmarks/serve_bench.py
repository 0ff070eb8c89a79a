"""Benchmark: requests per second and latency of `psgdiag serve` for small pastes.

Starts the real server on 127.0.0.1 (a free port) once per configuration, sends the same
bounded load of small pastes (the sample logs under 4 KB, cycled) to POST /v1/explain over
keep-alive connections, and prints one row per configuration: requests/s, latency p50/p95/p99,
and the CPU seconds the server's processes and the client used. No assertions: this is a
measurement. The client is a small asyncio HTTP/1.1 loop, cheap next to a diagnosis, but it runs
on the same cores as the server: its own CPU time is printed so it can be subtracted by eye.

    python3 benchmarks/serve_bench.py [--configs w1j2 w2j0 w2j1 w1j1] [--requests 2000]
                                      [--concurrency 8] [--rounds 4] [--max-seconds 120]
                                      [--json FILE]

All configurations run at once and are measured in interleaved rounds (a share of the requests
each per round), so a machine shared with other work loads them alike.

A configuration `wNjM` is `--workers N --jobs M`: N uvicorn server processes, each with M
diagnosis processes (M = 0: diagnose in the server process itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = 4096  # bytes: what "a small paste" means here
CONFIG = re.compile(r"^w(\d+)j(\d+)$")


@dataclass
class Row:
    """One configuration's measurement."""

    config: str
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_s: float
    client_cpu_s: float


def pastes() -> list[bytes]:
    """Return the small sample logs, in a fixed order."""
    found = [p.read_bytes() for p in sorted((ROOT / "tests" / "cases").glob("*/*.log"))]
    small = [b for b in found if len(b) <= SMALL]
    return small or [(ROOT / "tests" / "data" / "seed-2016-07.log").read_bytes()]


def start(workers: int, jobs: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server; return it and its port once /healthz answers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PSGDIAG_SERVE_TOKEN", None)
    cmd = [sys.executable, "-m", "psgdiag", "serve", "--port", "0", "--no-access-log"]
    cmd += ["--workers", str(workers), "--jobs", str(jobs), "--time-limit", "60"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    found = re.search(r"127\.0\.0\.1:(\d+)/", line)
    if found is None:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read().decode()}")
    port = int(found.group(1))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server not healthy in 120 s")


async def _one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes
) -> tuple[int, float]:
    head = (
        "POST /v1/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1]), time.perf_counter() - started


@dataclass
class Segment:
    """One burst of requests against one server."""

    latencies: list[float]
    errors: int
    seconds: float
    client_cpu_s: float


async def load(
    port: int, bodies: list[bytes], total: int, concurrency: int, limit: float
) -> Segment:
    """Send `total` requests over `concurrency` connections; stop early at `limit` seconds."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + limit

    async def connection() -> None:
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while sent < total and time.perf_counter() < deadline:
            body = bodies[sent % len(bodies)]
            sent += 1
            status, took = await _one(reader, writer, body)
            latencies.append(took)
            errors += status != 200
        writer.close()

    cpu = os.times()
    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    after = os.times()
    used = after.user + after.system - cpu.user - cpu.system
    return Segment(latencies, errors, seconds, used)


def summarise(config: str, segments: list[Segment], server_cpu_s: float) -> Row:
    """Pool the segments of one configuration into its row."""
    latencies = [t for s in segments for t in s.latencies]
    seconds = sum(s.seconds for s in segments)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Row(
        config=config,
        requests=len(latencies),
        errors=sum(s.errors for s in segments),
        seconds=round(seconds, 2),
        per_second=round(len(latencies) / seconds, 1),
        p50_ms=round(cuts[49] * 1000, 1),
        p95_ms=round(cuts[94] * 1000, 1),
        p99_ms=round(cuts[98] * 1000, 1),
        server_cpu_s=round(server_cpu_s, 2),
        client_cpu_s=round(sum(s.client_cpu_s for s in segments), 2),
    )


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():  # children of every thread
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return total


def measure(args: argparse.Namespace, bodies: list[bytes]) -> list[Row]:
    """Start every configuration, then measure them in interleaved rounds (same machine load)."""
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for config in args.configs:
            match = CONFIG.match(config)
            if match is None:
                raise SystemExit(f"bad configuration {config!r}: use wNjM, e.g. w1j2")
            servers[config] = start(int(match.group(1)), int(match.group(2)))
        segments: dict[str, list[Segment]] = {c: [] for c in servers}
        cpu = dict.fromkeys(servers, 0.0)
        for _, port in servers.values():  # warm-up, not counted
            asyncio.run(load(port, bodies, 100, args.concurrency, 60))
        per_round = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):
            for config, (proc, port) in servers.items():
                before = server_cpu(proc.pid)
                segment = load(port, bodies, per_round, args.concurrency, args.max_seconds)
                segments[config].append(asyncio.run(segment))
                cpu[config] += server_cpu(proc.pid) - before
        return [summarise(c, segments[c], cpu[c]) for c in servers]
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(30)


def main() -> None:
    """Measure each configuration and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["w1j2", "w2j0", "w2j1", "w1j1"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    bodies = pastes()
    print(
        f"{len(bodies)} small pastes (<= {SMALL} B), {os.cpu_count()} cores, "
        f"{args.concurrency} connections, {args.requests} requests per configuration"
    )
    rows = measure(args, bodies)
    print(
        "\n| config | requests | errors | req/s | p50 ms | p95 ms | p99 ms | server CPU s "
        "| client CPU s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.config} | {r.requests} | {r.errors} | {r.per_second} | {r.p50_ms} | "
            f"{r.p95_ms} | {r.p99_ms} | {r.server_cpu_s} | {r.client_cpu_s} |"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
