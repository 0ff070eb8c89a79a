"""A fake child process for the runner tests: prints real-shaped install output and exits.

Usage: fake_install.py SCENARIO [ARG]. Each run appends one line to $FAKE_INSTALL_COUNTER (when
set), so a test can count how many times the runner started it.
"""

from __future__ import annotations

import os
import signal
import sys
import time

GALLERY_503 = """\
VERBOSE: Using the provider 'PowerShellGet' for searching packages.
VERBOSE: Total package yield:'0' for the specified package 'Az.Accounts'.
WARNING: Query for 'Az.Accounts' failed: Exception calling "GetResponse" with "0" argument(s): \
"The remote server returned an error: (503) Server Unavailable."
HTTP/1.1 503 Service Unavailable
Retry-After: {retry_after}
"""

GALLERY_503_ERR = """\
PackageManagement\\Install-Package : No match was found for the specified search criteria and \
module name 'Az.Accounts'. Try Get-PSRepository to see all available registered module repositories.
At C:\\Program Files\\WindowsPowerShell\\Modules\\PowerShellGet\\2.2.5\\PSModule.psm1:9711 char:34
+ ... talledPackages = PackageManagement\\Install-Package @PSBoundParameters
+                      ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : ObjectNotFound: (Microsoft.Power....InstallPackage:InstallPackage) \
[Install-Package], Exception
    + FullyQualifiedErrorId : NoMatchFoundForCriteria,Microsoft.PowerShell.PackageManagement.Cmdlets\
.InstallPackage
"""

ADMIN_ERR = """\
Install-Module : Administrator rights are required to install modules in 'C:\\Program Files\\\
WindowsPowerShell\\Modules'. Log on to the computer with an account that has Administrator rights, \
and then try again, or install 'C:\\Users\\runneradmin\\Documents\\WindowsPowerShell\\Modules' by \
adding "-Scope CurrentUser" to your command. You can also try running the Windows PowerShell \
session with elevated rights (Run as Administrator).
At line:1 char:1
+ Install-Module -Name Pester -Force -Scope AllUsers
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidArgument: (:) [Install-Module], ArgumentException
    + FullyQualifiedErrorId : InstallModuleAdminPrivilegeRequiredForAllUsersScope,Install-Module
"""


def _count() -> int:
    path = os.environ.get("FAKE_INSTALL_COUNTER")
    if not path:
        return 1
    with open(path, "a", encoding="ascii") as fh:
        fh.write("run\n")
    with open(path, encoding="ascii") as fh:
        return sum(1 for _ in fh)


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def gallery_503(retry_after: str) -> int:
    _out(GALLERY_503.format(retry_after=retry_after))
    _err(GALLERY_503_ERR)
    return 1


def flaky(fail_times: str) -> int:
    """Fail with a gallery 503 the first N runs, then succeed."""
    if _count() <= int(fail_times):
        return gallery_503("0") or 1
    _out("VERBOSE: Installing 'Az.Accounts' version '2.13.2'.\nInstalled.\n")
    return 0


def admin(_: str) -> int:
    _out(
        'VERBOSE: Performing the operation "Install-Module" on target "Version \'5.5.0\' of '
        "module 'Pester'\".\n"
    )
    _err(ADMIN_ERR)
    return 1


def raw_bytes(code: str) -> int:
    """Every byte value, CRLF and lone CR, invalid UTF-8, and no final newline."""
    out = sys.stdout.buffer
    err = sys.stderr.buffer
    out.write(bytes(range(256)))
    out.flush()
    err.write(b"stderr line 1\r\n\xff\xfe not utf-8 \x1b[31mred\x1b[0m\r\n")
    err.flush()
    out.write(b"progress 10%\rprogress 100%\r\nno newline at the end")
    out.flush()
    err.write(b"stderr tail without newline")
    err.flush()
    return int(code)


def huge(megabytes: str) -> int:
    """Print many megabytes of noise, then a gallery 503 at the very end."""
    line = "VERBOSE: " + "x" * 90 + "\n"
    block = line * 1000
    for _ in range(int(float(megabytes) * 1024 * 1024) // len(block) + 1):
        sys.stdout.write(block)
    return gallery_503("0")


def wait_for_signal(_: str) -> int:
    """Report which signal arrived, then exit the conventional way (128 + signal number)."""
    got: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        got.append(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    _out("ready\n")
    deadline = time.monotonic() + 30
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    # Output written after the signal must still reach the runner's streams.
    _out(f"child got signal {got[0] if got else 0}\n")
    _err("cleanup finished\n")
    return 128 + got[0] if got else 99


SCENARIOS = {
    "gallery-503": gallery_503,
    "flaky": flaky,
    "admin": admin,
    "raw-bytes": raw_bytes,
    "huge": huge,
    "wait-for-signal": wait_for_signal,
}

if __name__ == "__main__":
    if sys.argv[1] != "flaky":
        _count()
    sys.exit(SCENARIOS[sys.argv[1]](sys.argv[2] if len(sys.argv) > 2 else "0"))
