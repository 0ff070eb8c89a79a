"""Speed and memory of psgdiag, measured side by side in one run (prints a table, asserts nothing).

    python benchmarks/bench.py [--repeat 5] [--workdir /tmp/psgdiag-bench] [--huge]

Jobs run interleaved (one run of each per round). Rows: explain on a small paste vs the import
floor (`python -c "import typer, rich, rapidfuzz"`, target <= 1.5x); the same paste with 1,000
synthetic signatures beside the real ones (warm snapshot cache, target < 2x); explain on a
generated 100 MB CI log (file and pipe, UTF-8 and UTF-16) and a 50 MB line without a newline vs
`grep -c -F -i -f <the signatures' literal phrases>` (target <= 3x for the 100 MB logs, <= 5x for
the 50 MB single line; peak RSS <= 200 MB). Each
row is the median of --repeat runs; peak RSS is the child's own peak (GNU time's %M; os.wait4
otherwise). Generated logs live in --workdir, never in the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_log  # noqa: E402
import gen_sigs  # noqa: E402

PY = sys.executable
# ru_maxrss from os.wait4 includes the forked copy of this Python process (Linux keeps the
# high-water mark across exec), so peak memory comes from GNU time when it is installed.
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""
EXPLAIN = [PY, "-m", "psgdiag", "explain", "-f", "json"]


@dataclass
class Run:
    """One measured process: wall seconds, peak RSS in MB, exit code, stdout."""

    wall: float
    rss_mb: float
    code: int
    out: str


def measure(cmd: list[str], *, pipe_from: Path | None = None, env: dict[str, str]) -> Run:
    """Run cmd once; stdin is `cat pipe_from` through a real pipe when given."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        feeder = None
        if TIME:  # GNU time forks from a tiny process: the child's own peak, not ours
            cmd = [TIME, "-f", "%M", "-o", rss.name, *cmd]
        start = time.perf_counter()
        if pipe_from is not None:
            feeder = subprocess.Popen(["cat", str(pipe_from)], stdout=subprocess.PIPE)
        proc = subprocess.Popen(
            cmd,
            stdin=feeder.stdout if feeder else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        if feeder is not None and feeder.stdout is not None:
            feeder.stdout.close()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if feeder is not None:
            feeder.wait()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        peak_kb = usage.ru_maxrss
        if TIME:
            lines = rss.read().split()
            peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else peak_kb
    return Run(wall, peak_kb / 1024, proc.returncode, text)


Job = tuple[list[str], Path | None]  # a command and the file piped to its stdin (or None)


def rounds(jobs: dict[str, Job], n: int, env: dict[str, str]) -> dict[str, list[Run]]:
    """Run every job once per round, n rounds (after one warm-up round).

    Interleaving keeps a baseline and the rows compared with it under the same machine load: on
    a shared machine, load shifts between consecutive blocks of runs skew ratios otherwise.
    """
    out: dict[str, list[Run]] = {name: [] for name in jobs}
    for i in range(n + 1):
        for name, (cmd, pipe) in jobs.items():
            run = measure(cmd, pipe_from=pipe, env=env)
            if i:
                out[name].append(run)
    return out


def found(run: Run) -> str:
    """Summarise the top diagnosis of a JSON run: cause@first evidence line."""
    try:
        diags = json.loads(run.out)["diagnoses"]
    except (ValueError, KeyError):
        return f"exit {run.code}"
    if not diags:
        return "none"
    lines = [e["line"] for e in diags[0]["evidence"] if e.get("line")]
    return f"{diags[0]['cause']}@{min(lines) if lines else '-'}"


def phrases_file(workdir: Path) -> Path:
    """Write the signatures' literal `text` phrases, one per line, for grep -F -f."""
    from psgdiag import api

    kb = api.load_kb()
    lines = sorted({e.pattern for s in kb.signatures for e in s.evidence if e.kind == "text"})
    path = workdir / "phrases.txt"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def ensure_logs(workdir: Path, huge: bool) -> dict[str, Path]:
    """Generate the big logs once (they are reused by later runs)."""
    specs = {
        "ci-100m.log": {"size_mb": 100},
        "ci-100m-utf16.log": {"size_mb": 100, "utf16": True},
        "line-50m.log": {"size_mb": 50, "one_line": True},
    }
    if huge:
        specs["ci-1g.log"] = {"size_mb": 1024}
    out = {}
    for name, spec in specs.items():
        path = workdir / name
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            gen_log.generate(path, **spec)  # type: ignore[arg-type]
        out[name] = path
    return out


def row(name: str, runs: list[Run], base: float | None, target: str, note: str = "") -> None:
    """Print one table row."""
    walls = [r.wall for r in runs]
    med = statistics.median(walls)
    ratio = f"{med / base:5.2f}x" if base else "   - "
    rss = max(r.rss_mb for r in runs)
    print(f"{name:<44} {med:7.3f} {min(walls):7.3f} {rss:8.1f} {ratio:>7}  {target:<14} {note}")


def import_profile(small: Path, env: dict[str, str]) -> None:
    """Print the slowest top-level imports of `explain -f json` on the small paste."""
    res = subprocess.run(
        [PY, "-X", "importtime", "-m", "psgdiag", "explain", "-f", "json", str(small)],
        capture_output=True,
        text=True,
        env=env,
    )
    rows = []
    for line in res.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].startswith(" ") and not parts[2].startswith("  "):
            try:
                rows.append((int(parts[1]), parts[2].strip()))
            except ValueError:
                continue
    print("\nslowest top-level imports of `explain -f json` (cumulative microseconds):")
    for us, mod in sorted(rows, reverse=True)[:8]:
        print(f"  {us:>8}  {mod}")


def compile_bytecode(env: dict[str, str]) -> None:
    """Write psgdiag's .pyc files first, as `pip install` does for the libraries in the floor.

    An editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module
    from source on each run, which no installed copy does.
    """
    out = subprocess.run(
        [PY, "-c", "import psgdiag, pathlib; print(pathlib.Path(psgdiag.__file__).parent)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    pkg = out.stdout.strip()
    subprocess.run(
        [PY, "-m", "compileall", "-q", pkg], env=env, check=True, stdout=subprocess.DEVNULL
    )
    print(f"bytecode compiled for {pkg} (as pip install does)")


def main() -> None:
    """Measure and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "psgdiag-bench")
    ap.add_argument("--huge", action="store_true", help="also a 1 GB log")
    ap.add_argument("--small-only", action="store_true", help="only the small-paste rows")
    args = ap.parse_args()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PSGDIAG_CACHE_DIR=str(work / "cache"), NO_COLOR="1")
    env.pop("PSGDIAG_SIGNATURES", None)
    compile_bytecode(env)
    logs = {} if args.small_only else ensure_logs(work, args.huge)
    small = work / "paste.log"
    small.write_text(gen_log.FAILURE, "utf-8")
    sigs = work / "sigs-1000"
    gen_sigs.generate(sigs, 1000)
    phrases = phrases_file(work)
    n = args.repeat

    print(f"psgdiag benchmark: median and min of {n} runs (s), peak RSS (MB), ratio to baseline")
    print(f"{'':<44} {'median':>7} {'min':>7} {'RSS MB':>8} {'ratio':>7}  {'target':<14} found")
    small_jobs: dict[str, Job] = {
        "floor": ([PY, "-c", "import typer, rich, rapidfuzz"], None),
        "json": ([*EXPLAIN, str(small)], None),
        "rich": ([PY, "-m", "psgdiag", "explain", "-f", "rich", str(small)], None),
        "many": ([*EXPLAIN, "--signatures", str(sigs), str(small)], None),
    }
    res = rounds(small_jobs, n, env)
    base = statistics.median(r.wall for r in res["floor"])
    row("import floor: typer, rich, rapidfuzz", res["floor"], None, "baseline")
    for fmt in ("json", "rich"):
        runs = res[fmt]
        row(f"explain small paste (-f {fmt})", runs, base, "<= 1.5x", found(runs[0]))
    json_base = statistics.median(r.wall for r in res["json"])
    row("small paste, real KB + 1,000 synthetic", res["many"], json_base, "< 2x vs -f json")
    if args.small_only:
        return

    big = logs["ci-100m.log"]
    big_jobs: dict[str, Job] = {
        "grep -c -F -i -f phrases, 100 MB": (
            ["grep", "-c", "-F", "-i", "-f", str(phrases), str(big)],
            None,
        ),
        "explain 100 MB CI log (file)": ([*EXPLAIN, str(big)], None),
        "explain 100 MB CI log (stdin pipe)": ([*EXPLAIN, "-"], big),
        "explain 100 MB UTF-16 CI log (file)": ([*EXPLAIN, str(logs["ci-100m-utf16.log"])], None),
        "explain 50 MB line without newline": ([*EXPLAIN, str(logs["line-50m.log"])], None),
    }
    if args.huge:
        big_jobs["explain 1 GB CI log (file)"] = ([*EXPLAIN, str(logs["ci-1g.log"])], None)
    res = rounds(big_jobs, n, env)
    names = list(big_jobs)
    gbase = statistics.median(r.wall for r in res[names[0]])
    row(names[0], res[names[0]], None, "baseline")
    for label in names[1:]:
        if "1 GB" in label:
            target = "(10x the size)"
        elif "100 MB" in label:
            target = "<= 3x, 200 MB"
        else:
            target = "<= 5x, 200 MB"
        row(label, res[label], gbase, target, found(res[label][0]))
    import_profile(small, env)


if __name__ == "__main__":
    main()
