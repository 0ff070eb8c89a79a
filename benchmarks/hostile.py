"""Time and peak memory of `probe` and `incidents sync/import` against hostile loopback servers.

    python benchmarks/hostile.py [--code DIR] [--limit 60] [--only NAME ...]

Each attack runs psgdiag in a child process (from --code, default this checkout) against a
server on 127.0.0.1 that misbehaves on purpose (tests/hostile_server.py), and prints one row:
wall time, the child's peak RSS (GNU time's %M; os.wait4 otherwise), the exit code, and what it
said. A child still running after --limit seconds is killed and shown as such (its peak RSS up
to then read from /proc VmHWM). Asserts nothing;
the tests assert the bounds. To compare with another branch, export it first:
`git archive main | tar -x -C /tmp/psgdiag-main` and pass `--code /tmp/psgdiag-main`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile_server as hs  # noqa: E402

TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""


@dataclass
class Run:
    """One measured child: wall seconds, peak RSS in MB, exit code (None: killed), output."""

    wall: float
    rss_mb: float
    code: int | None
    out: str
    err: str


@dataclass
class Ctx:
    """Where psgdiag's code is, the kill limit, and a scratch folder per attack."""

    code: Path
    limit: float
    scratch: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: no proxies, psgdiag from --code, data and temp in scratch."""
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(PYTHONPATH=str(self.code), NO_PROXY="127.0.0.1,localhost")
        env.update(PSGDIAG_DATA_DIR=str(self.scratch / "data"), TMPDIR=str(self.scratch / "tmp"))
        env.update(extra)
        return env

    def run(
        self,
        args: list[str],
        *,
        interrupt_after: Callable[[], bool] | None = None,
        tmp: Path | None = None,
    ) -> tuple[Run, float | None]:
        """Run `python -m psgdiag ARGS`; with interrupt_after, send SIGINT once it holds.

        Returns the run and, when interrupted, the seconds from SIGINT to exit.
        """
        tmp = tmp or self.scratch / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "psgdiag", *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            with tempfile.NamedTemporaryFile("r") as rss:
                if TIME:
                    cmd = [TIME, "-f", "%M", "-o", rss.name, *cmd]
                start = time.perf_counter()
                # cwd: not a checkout (`python -m` puts the working folder before PYTHONPATH).
                proc = subprocess.Popen(
                    cmd,
                    cwd=self.scratch,
                    stdout=out,
                    stderr=err,
                    env=self.env(TMPDIR=str(tmp)),
                    start_new_session=True,
                )
                code, peak, sigint_at = self._wait(proc, start, interrupt_after)
                wall = time.perf_counter() - start
                lines = rss.read().split()
                if TIME and lines and lines[-1].isdigit():
                    peak = int(lines[-1])
            out.seek(0)
            err.seek(0)
            text, errs = (f.read().decode("utf-8", "replace") for f in (out, err))
        after = time.perf_counter() - start - sigint_at if sigint_at is not None else None
        return Run(wall, peak / 1024, code, text, errs), after

    def _wait(
        self, proc: subprocess.Popen[bytes], start: float, interrupt: Callable[[], bool] | None
    ) -> tuple[int | None, int, float | None]:
        """(exit code or None when killed, peak RSS in kB, when SIGINT was sent)."""
        sigint_at: float | None = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status), usage.ru_maxrss, sigint_at
            now = time.perf_counter() - start
            if interrupt is not None and sigint_at is None and interrupt():
                os.killpg(proc.pid, signal.SIGINT)
                sigint_at = now
            if now > self.limit:
                peak = _peak_kb(proc.pid)  # the child's high-water mark so far
                os.killpg(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                return None, peak, sigint_at
            time.sleep(0.01)


def _peak_kb(pid: int) -> int:
    """VmHWM (kB) of pid or, under GNU time, of its child; 0 when /proc cannot tell."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    peak = 0
    for p in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak


def said(run: Run) -> str:
    """What the child reported: the probe's verdict and failed step, else its first stderr line."""
    try:
        doc = json.loads(run.out)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "verdict" in doc:
        failed = next((s for s in doc["steps"] if s["status"] == "fail"), None)
        detail = failed["detail"] if failed else doc["summary"]
        return f"{doc['verdict']} @{doc['failed_step']}: {detail}"
    first = run.err.strip().splitlines()[:1] or run.out.strip().splitlines()[:1] or ["-"]
    return first[0]


def row(name: str, run: Run, note: str = "") -> None:
    """Print one result line."""
    code = "killed" if run.code is None else str(run.code)
    wall = f">{run.wall:.0f}" if run.code is None else f"{run.wall:.1f}"
    text = note or said(run)
    print(f"{name:<26} {wall:>7} s {run.rss_mb:>7.0f} MB  exit {code:<6} {text[:110]}", flush=True)


# ---------------------------------------------------------------- probe attacks


def probe(ctx: Ctx, name: str, feed: hs.Feed, timeout: str = "5", scheme: str = "http") -> Run:
    """Probe a hostile gallery with --timeout and print the row."""
    with hs.gallery(feed) as g:
        repo = g.base.replace("http://", f"{scheme}://", 1)
        run, _ = ctx.run(
            ["probe", hs.MODULE, "--repository", repo, "--timeout", timeout, "-f", "json"]
        )
    row(name, run)
    return run


def probe_attacks(ctx: Ctx) -> dict[str, Callable[[], object]]:
    """The probe's attacks by name."""

    def nuspec(spaces: int) -> hs.Feed:
        text = f"<package><metadata><id>{' ' * spaces}<version>1.0.0</version></metadata></package>"
        return hs.Feed(data=hs.package(text))

    def empty() -> hs.Feed:
        return hs.Feed(data=b"", size=False, hash=hs.digest(hs.package()))

    big = hs.filler_elements(15 * 1024 * 1024)
    text = hs.filler_text(15 * 1024 * 1024)

    def interrupted(name: str, feed: hs.Feed) -> None:
        tmp = ctx.scratch / f"tmp-{name}"

        def downloading() -> bool:
            return any(p.is_file() and p.stat().st_size > 0 for p in tmp.rglob("*"))

        with hs.gallery(feed) as g:
            args = ["probe", hs.MODULE, "--repository", g.base, "--timeout", "30", "-f", "json"]
            run, after = ctx.run(args, interrupt_after=downloading, tmp=tmp)
        left = sorted(p.name for p in tmp.iterdir())
        if after is None:
            when = "ended before any SIGINT"
        elif run.code is None:
            when = f"still running {after:.0f} s after SIGINT (killed)"
        else:
            when = f"ended {after:.2f} s after SIGINT"
        row(name, run, f"{when}; temp left behind: {left or 'none'}")

    cases: list[tuple[str, Callable[[], hs.Feed], str, str]] = [
        ("probe-nuspec-3k-spaces", lambda: nuspec(3000), "5", "http"),
        ("probe-nuspec-20k-spaces", lambda: nuspec(20000), "5", "http"),
        ("probe-hash-shake128", lambda: hs.Feed(algorithm="SHAKE_128"), "5", "http"),
        ("probe-version-superscript", lambda: hs.Feed(version="1.\u00b2"), "5", "http"),
        ("probe-version-5000-digits", lambda: hs.Feed(version="1." + "9" * 5000), "5", "http"),
        ("probe-zip-encrypted", lambda: hs.Feed(data=hs.encrypted(hs.package())), "5", "http"),
        ("probe-empty-package", empty, "5", "http"),
        ("probe-20x15MB-elements-t5", lambda: hs.Feed(pages=20, filler=big), "5", "http"),
        ("probe-20x15MB-elements-t20", lambda: hs.Feed(pages=20, filler=big), "20", "http"),
        ("probe-20x15MB-text-t20", lambda: hs.Feed(pages=20, filler=text), "20", "http"),
        ("probe-zip-1M-entries", lambda: hs.Feed(data=hs.many_entries(1_000_000)), "20", "http"),
        ("probe-plain-http-on-https", hs.Feed, "5", "https"),
        ("probe-download-reset", lambda: hs.Feed(ending="reset"), "5", "http"),
        ("probe-download-close", lambda: hs.Feed(ending="close"), "5", "http"),
    ]

    def case(name: str, make: Callable[[], hs.Feed], timeout: str, scheme: str) -> None:
        probe(ctx, name, make(), timeout, scheme)

    attacks: dict[str, Callable[[], object]] = {c[0]: functools.partial(case, *c) for c in cases}
    stalled = hs.Feed(data=os.urandom(4 << 20), ending="stall")
    attacks["probe-ctrl-c-stalled-body"] = functools.partial(
        interrupted, "probe-ctrl-c-stalled-body", stalled
    )
    attacks["probe-ctrl-c-nuspec-20k"] = functools.partial(
        interrupted, "probe-ctrl-c-nuspec-20k", nuspec(20000)
    )
    return attacks


# ---------------------------------------------------------------- incident attacks


def sync(ctx: Ctx, name: str, body: bytes, *, drip: float = 0.0, timeout: str = "5") -> Run:
    """`incidents sync URL --timeout T` against a hostile page; print the row."""
    with hs.status_page(hs.Page(body, drip)) as url:
        run, _ = ctx.run(["incidents", "sync", url, "--timeout", timeout])
    row(name, run)
    return run


def listing(ctx: Ctx, name: str) -> Run:
    """`incidents list -f json` with whatever the cache holds now."""
    run, _ = ctx.run(["incidents", "list", "-f", "json"])
    synced = run.out.count('"origin": "synced"')
    row(name, run, f"{synced} synced incidents listed; {said(run)[:60]}")
    return run


OUTAGE = "## 3/2/2026 - Downloads return damaged packages\nSome downloads fail.\n"


def incident_attacks(ctx: Ctx) -> dict[str, Callable[[], object]]:
    """The status page's attacks by name."""

    def fresh() -> None:
        shutil.rmtree(ctx.scratch / "data", ignore_errors=True)

    def then_list(name: str, body: bytes) -> None:
        fresh()
        sync(ctx, name, body)
        listing(ctx, name + "+list")

    def imported() -> None:
        path = ctx.scratch / "big.md"
        line = b"The gallery had a problem with some packages today, we are looking into it.\n"
        path.write_bytes(OUTAGE.encode() + line * (50 * 1024 * 1024 // len(line)))
        run, _ = ctx.run(["incidents", "import", str(path), "-f", "json"])
        row("import-50MB-file", run)

    def imported_text(name: str, body: bytes) -> None:
        path = ctx.scratch / "page.md"
        path.write_bytes(body)
        run, _ = ctx.run(["incidents", "import", str(path), "-f", "json"])
        row(name, run)

    def control() -> None:
        fresh()
        sync(
            ctx,
            "sync-control-char-title",
            (OUTAGE + "## 3/5/2026 - Sign-in \x7f broken\n").encode(),
        )
        listing(ctx, "  list after it")
        good = "## 3/9/2026 - The gallery had an outage\nRequests failed.\n" + OUTAGE
        sync(ctx, "  a later good sync", good.encode())
        run = listing(ctx, "  list after that")
        kept = "INC-2026-03-05" in run.out and "INC-2026-03-02" in run.out
        row("  learnt before kept?", run, "yes" if kept else "NO: earlier incidents lost")

    def takeover() -> None:
        fresh()
        ongoing = "## 3/2/2026 - Some downloads are corrupt\n__Status: Ongoing__\n"
        sync(ctx, "sync-open-ended", ongoing.encode())
        later = "## 3/20/2026 - Corrupt packages again\n__Status: Resolved__\n"
        sync(ctx, "  later entry, shared cause", later.encode())
        run = listing(ctx, "  list")
        kept = "Some downloads are corrupt" in run.out and "again" in run.out
        row("  both kept?", run, "yes" if kept else "NO: the later entry took the older id")

    def password() -> None:
        fresh()
        with hs.status_page(hs.Page(OUTAGE.encode())) as url:
            secret = url.replace("http://", "http://alice:s3cret@", 1)
            runs = [ctx.run(["incidents", "sync", secret])[0]]
            runs.append(
                ctx.run(["incidents", "show", "INC-2026-03-02-downloads-return-damaged"])[0]
            )
        runs.append(ctx.run(["incidents", "sync", secret.replace(":1", ":9", 1)])[0])  # an error
        cache = ctx.scratch / "data" / "incidents-synced.toml"
        places = [
            n
            for n, r in zip(("sync", "show", "error"), runs, strict=True)
            if "s3cret" in r.out + r.err
        ]
        if cache.exists() and "s3cret" in cache.read_text("utf-8", "replace"):
            places.append("cache")
        row("sync-password-in-url", runs[0], f"password seen in: {places or 'nowhere'}")

    heading = b"## 7/13/2016 - Title" + b" " * 3000 + b"x!\n"
    status = b"## 7/13/2016 - Title\n__Status: " + b" " * 3000 + b"!\n"
    brackets = b"## 7/13/2016 - Title " + b"[" * 150_000 + b"\n"
    brackets_20k = b"## 7/13/2016 - Title " + b"[" * 20_000 + b"\n"
    same = b"## 7/13/2016 - The same heading again\n" * 20_000

    def prose(words: bytes) -> bytes:  # 1 MiB: 400 entries of 2,500 bytes of dates or times
        body = (words * (2_500 // len(words) + 1))[:2_500]
        return b"".join(
            b"## 7/%d/2016 - Entry %d\n%s\n" % (1 + i % 28, i, body) for i in range(400)
        )

    many = b"".join(b"## 7/13/2016 - e%d\n" % i for i in range(100_000))

    def single(name: str, body: bytes, drip: float = 0.0) -> None:
        fresh()
        sync(ctx, name, body, drip=drip)

    pages = {
        "sync-slow-bytes": (OUTAGE.encode() * 4, 2.0),
        "sync-heading-3k-spaces": (heading, 0.0),
        "sync-status-3k-spaces": (status, 0.0),
        "sync-150k-brackets": (brackets, 0.0),
        "sync-20k-brackets": (brackets_20k, 0.0),
        "sync-1MB-of-dates": (prose(b"7/13/2016 "), 0.0),
        "sync-1MB-of-times": (prose(b"began 1pm UTC "), 0.0),
        "sync-1MB-of-dashes": (prose(b"- "), 0.0),
        "sync-date-9999": (b"## 12/28/9999 - The end\n", 0.0),
        "sync-date-0001": (b"## 1/1/0001 - The start\n", 0.0),
    }
    attacks: dict[str, Callable[[], object]] = {
        name: functools.partial(single, name, body, drip) for name, (body, drip) in pages.items()
    }
    attacks.update(
        {
            "sync-20k-same-headings": lambda: then_list("sync-20k-same-headings", same),
            "sync-400-same-headings": lambda: then_list("sync-400-same-headings", same[:15_200]),
            "sync-100k-headings": lambda: then_list("sync-100k-headings", many),
            "import-50MB-file": imported,
            "import-date-9999": lambda: imported_text("import-date-9999", b"## 12/28/9999 - x\n"),
            "sync-control-char-title": control,
            "sync-open-ended-takeover": takeover,
            "sync-password-in-url": password,
        }
    )
    return attacks


def main() -> None:
    """Run the attacks and print one row each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose psgdiag runs")
    ap.add_argument("--limit", type=float, default=60.0, help="kill a child after this many s")
    ap.add_argument("--only", nargs="*", default=[], help="attack names (prefixes) to run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="psgdiag-hostile-") as tmp:
        ctx = Ctx(args.code.resolve(), args.limit, Path(tmp))
        attacks = {**probe_attacks(ctx), **incident_attacks(ctx)}
        print(f"psgdiag from {ctx.code}; kill after {ctx.limit:g} s")
        for name, attack in attacks.items():
            if args.only and not any(name.startswith(p) for p in args.only):
                continue
            with contextlib.suppress(KeyboardInterrupt):
                attack()


if __name__ == "__main__":
    main()
