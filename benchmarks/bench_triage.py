"""Benchmark: triage a generated queue of 2,000 logs with --jobs 1 and --jobs 2.

Prints the wall time of each run and its CPU utilisation (CPU seconds of the triage process and
its workers divided by wall seconds: about 1.0 means one core busy, about 2.0 both cores). No
assertions: this is a measurement, not a test.

    python3 benchmarks/bench_triage.py [--count 2000] [--jobs 1 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "tests" / "fixtures" / "triage", ROOT / "tests" / "cases"]
MODULES = ["Contoso.Tools", "Fabrikam.Net", "Northwind.Data", "Az.Accounts", "Pester", "dbatools"]
USERS = ["jdoe", "asmith", "mgarcia", "tnguyen"]


def templates() -> list[str]:
    """Return the sample logs the queue is built from (fixtures, plus tests/cases when present)."""
    out: list[str] = []
    for root in SOURCES:
        if root.is_dir():
            for path in sorted(root.rglob("*.log")):
                raw = path.read_bytes()
                if raw.startswith(b"\xff\xfe"):
                    out.append(raw[2:].decode("utf-16-le", "replace"))
                else:
                    out.append(raw.decode("utf-8-sig", "replace"))
    return out


def generate(target: Path, count: int, seed: int = 2016) -> None:
    """Write `count` tickets: varied copies of the templates in nested folders and one archive."""
    rng = random.Random(seed)
    bases = templates()
    in_zip = count // 20
    archive = zipfile.ZipFile(target / "mailbox-export.zip", "w", zipfile.ZIP_DEFLATED)
    for n in range(count):
        text = rng.choice(bases)
        user = rng.choice(USERS)
        text = text.replace("jdoe", user).replace("Contoso.Tools", rng.choice(MODULES))
        text += f"\nTicket {n:05d} from {user}@contoso.com, {rng.randint(1, 99)} retries.\n"
        data = text.encode("utf-16-le") if n % 17 == 0 else text.encode("utf-8")
        if n < in_zip:
            archive.writestr(f"inbox/{n:05d}.log", data)
            continue
        folder = target / f"queue-{n % 20:02d}" / f"day-{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"ticket-{n:05d}.log").write_bytes(data)
    archive.close()


def run(queue: Path, jobs: int) -> tuple[float, float]:
    """Triage the queue in a child process; return (wall seconds, CPU seconds of it and workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "psgdiag", "triage", str(queue), "-f", "json"]
    cmd += ["--jobs", str(jobs), "-o", str(queue.parent / f"report-{jobs}.json")]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Generate the queue, triage it once per --jobs value, print the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="psgdiag-bench-"))
    queue = work / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    try:
        generate(queue, args.count)
        print(f"generated {args.count} tickets from {len(templates())} sample logs in {queue}")
        print(f"cores: {os.cpu_count()}; other load lowers cpu/wall, so the load is shown too")
        head = f"{'jobs':>4} {'wall s':>8} {'cpu s':>8} {'cpu/wall':>9} {'tickets/s':>10}"
        print(head + f" {'load avg before':>16}")
        for jobs in args.jobs:
            load = os.getloadavg()[0]
            wall, cpu = run(queue, jobs)
            print(
                f"{jobs:>4} {wall:>8.2f} {cpu:>8.2f} {cpu / wall:>9.2f} "
                f"{args.count / wall:>10.1f} {load:>16.2f}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
