"""`psgdiag shell pwsh`: print a profile helper that sends PowerShell's last error to psgdiag.

The helper writes the psgdiag-record v1 layout (documented in docs/ci.md): a `# psgdiag-record
v1` line, `PSVersion:` / `PSEdition:` / `Platform:` lines, the time as an ISO 8601 UTC stamp,
one `Get-Module`-style row per PowerShellGet / PackageManagement / PSResourceGet, a blank line,
then the error exactly as Windows PowerShell's NormalView prints it (message, `At line:`
position, `+ CategoryInfo`, `+ FullyQualifiedErrorId`), its ScriptStackTrace and every
exception in the InnerException chain as `Type: message`. `explain` reads it like any log.
"""

from __future__ import annotations

from typing import Annotated

import typer

from psgdiag.cli.common import handled
from psgdiag.errors import UsageError

RECORD_HEADER = "# psgdiag-record v1"
SHELLS = {"pwsh": "profile.ps1", "powershell": "profile.ps1"}


def profile_text(shell: str) -> str:
    """Return the profile snippet for a shell name."""
    from importlib import resources

    name = SHELLS.get(shell.lower())
    if name is None:
        raise UsageError(
            f"no helper for shell {shell!r}", hint="use one of: " + ", ".join(sorted(SHELLS))
        )
    return resources.files("psgdiag.data").joinpath(name).read_text(encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the shell command to the app."""

    @app.command()
    @handled
    def shell(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The shell: pwsh (or powershell).")],
    ) -> None:
        """Print a profile helper: `psgdiag-last` sends the newest error record to explain."""
        typer.echo(profile_text(name), nl=False)
