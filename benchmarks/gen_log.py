"""Generate a large, reproducible CI log whose install failure sits console-wrapped near the end.

    python benchmarks/gen_log.py /tmp/ci-100m.log --size-mb 100 [--utf16] [--one-line]

The noise imitates a GitHub Actions job (timestamps, groups, restore/build/test output, npm and
PowerShell verbose chatter, a few warnings); the failure is a Windows PowerShell error record
hard-wrapped at 80 columns (mid-word), each piece stamped like the rest of the log.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

FAILURE = """\
PS C:\\a\\_work> Install-Module -Name Az.Accounts -RequiredVersion 2.12.1 -Force
Install-Module : Package 'Az.Accounts' failed to be installed because: End of Central Directory \
record could not be found.
At C:\\Program Files\\WindowsPowerShell\\Modules\\PowerShellGet\\1.0.0.1\\PSModule.psm1:1809 char:21
+ ...          $null = PackageManagement\\Install-Package @PSBoundParameters
+                      ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidResult: (Az.Accounts:String) [Install-Package], Exception
    + FullyQualifiedErrorId : Package '{0}' failed to be installed because: {1},Microsoft.PowerS\
hell.PackageManagement.Cmdlets.InstallPackage
##[error]Process completed with exit code 1.
"""

NOISE = (
    "##[group]Run actions/checkout@v4",
    "Syncing repository: contoso/infra-modules",
    "  Restored /home/runner/work/infra/src/Contoso.Core/Contoso.Core.csproj (in {n} ms).",
    "  Contoso.Core -> /home/runner/work/infra/src/Contoso.Core/bin/Release/Contoso.Core.dll",
    "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    "added {n} packages, and audited {n} packages in 9s",
    "VERBOSE: Loading module from path 'C:\\a\\_work\\1\\s\\build\\Build.psm1'.",
    "VERBOSE: Exporting function 'Invoke-Step{n}'.",
    "  Passed Contoso.Core.Tests.ParserTests.Parses_case_{n} [{n} ms]",
    "[{n}/2048] Compiling src/lib/module_{n}.c",
    "Downloading https://registry.npmjs.org/lodash/-/lodash-4.17.{n}.tgz",
    "##[endgroup]",
    "Build succeeded.",
    "    0 Warning(s)",
    "    0 Error(s)",
    "Time Elapsed 00:00:{n}.51",
    "  Determining projects to restore...",
    "Step {n}: RUN pwsh -NoProfile -File ./build.ps1 -Configuration Release",
    "warning CS8618: Non-nullable property 'Name' must contain a non-null value when exiting.",
    "  test_transform_{n} PASSED                                               [ {n}%]",
)


def stamp(second: int) -> str:
    """Return a GitHub Actions timestamp for the given second of the job."""
    h, rest = divmod(second, 3600)
    m, s = divmod(rest, 60)
    return f"2024-05-03T{h % 24:02d}:{m:02d}:{s:02d}.{(second * 7919) % 10**7:07d}Z "


def wrap(line: str, width: int = 80) -> list[str]:
    """Hard-wrap a line at `width` columns, mid-word, as a console buffer does."""
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def noise_block(rng: random.Random, lines: int, start_second: int) -> str:
    """Return `lines` lines of stamped CI noise."""
    out = []
    for i in range(lines):
        text = rng.choice(NOISE).replace("{n}", str(rng.randint(1, 999)))
        out.append(stamp(start_second + i // 50) + text)
    return "\n".join(out) + "\n"


def failure_block(second: int) -> str:
    """Return the stamped, console-wrapped failure."""
    out: list[str] = []
    for line in FAILURE.splitlines():
        out.extend(stamp(second) + piece for piece in wrap(line))
    return "\n".join(out) + "\n"


def generate(path: Path, size_mb: float, *, utf16: bool = False, one_line: bool = False) -> None:
    """Write the log: noise up to ~size_mb, the failure, a short noisy tail."""
    rng = random.Random(20240503)
    target = int(size_mb * 1024 * 1024)
    block = noise_block(rng, 20000, 0)
    if one_line:
        block = block.replace("\n", " ")
    enc = "utf-16-le" if utf16 else "utf-8"
    raw = block.encode(enc)
    with path.open("wb") as fh:
        if utf16:
            fh.write(b"\xff\xfe")
        written = 0
        while written + len(raw) < target:
            fh.write(raw)
            written += len(raw)
        fail = failure_block(86000)
        if one_line:
            fail = fail.replace("\n", " ")
        fh.write(fail.encode(enc))
        fh.write(noise_block(rng, 40, 86001).encode(enc))


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--size-mb", type=float, default=100.0)
    ap.add_argument("--utf16", action="store_true", help="write UTF-16LE with a BOM")
    ap.add_argument("--one-line", action="store_true", help="no newline at all (one giant line)")
    args = ap.parse_args()
    generate(args.out, args.size_mb, utf16=args.utf16, one_line=args.one_line)


if __name__ == "__main__":
    main()
