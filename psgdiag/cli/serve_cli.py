"""`psgdiag serve`: the web page and HTTP API (the optional `psgdiag[serve]` extra).

Nothing of starlette or uvicorn is imported until this command runs, so the other commands
start as fast as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from psgdiag import regexcode
from psgdiag.cli.common import handled, signature_dirs
from psgdiag.errors import UsageError

_SIZE = regexcode.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g|kib|mib|gib)?\s*$")
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3}
_UNITS |= {"gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_size(text: str) -> int:
    """Read a size such as 20MB, 512KiB or 1048576 (bytes)."""
    match = _SIZE.match(text)
    if match is None:
        raise UsageError(f"--max-bytes {text!r} is not a size", hint="e.g. 20MB, 512KiB, 1048576")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def _require_extra() -> None:
    import importlib.util

    wanted = ("starlette", "uvicorn", "python_multipart")
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            "psgdiag serve needs the serve extra (missing: " + ", ".join(missing) + ")",
            hint='pip install "psgdiag[serve]"',
        )


def register(app: typer.Typer) -> None:
    """Add the serve command to the app."""

    @app.command()
    @handled
    def serve(
        ctx: typer.Context,
        host: Annotated[
            str, typer.Option(help="Address to listen on; beyond loopback needs a token.")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8765,
        token: Annotated[
            str | None,
            typer.Option(
                envvar="PSGDIAG_SERVE_TOKEN",
                help="Bearer token the API (and the page's form) requires.",
                show_default=False,
            ),
        ] = None,
        no_token: Annotated[
            bool,
            typer.Option("--no-token", help="Serve a non-loopback address without a token."),
        ] = False,
        allow_unredacted: Annotated[
            bool,
            typer.Option(
                "--allow-unredacted", help="Let a request ask for unmasked output (redact=false)."
            ),
        ] = False,
        max_bytes: Annotated[
            str, typer.Option(help="Largest request body (e.g. 20MB); larger ones get 413.")
        ] = "20MB",
        time_limit: Annotated[
            float, typer.Option(help="Seconds a diagnosis may take before it is stopped (503).")
        ] = 30.0,
        jobs: Annotated[
            int | None,
            typer.Option(
                "--jobs",
                "-j",
                help="Diagnosis processes (default: one per core; 0: in the server process).",
                show_default=False,
            ),
        ] = None,
        workers: Annotated[int, typer.Option(help="uvicorn server processes.")] = 1,
        signatures: Annotated[
            list[Path] | None,
            typer.Option(help="Extra signature folder (repeatable; also PSGDIAG_SIGNATURES)."),
        ] = None,
        access_log: Annotated[
            bool,
            typer.Option(help="Log one line per request: path, status, byte counts, time."),
        ] = True,
    ) -> None:
        """Serve a web page and an HTTP API that explain failed installs."""
        # Imported when the command runs: the CLI starts without the server (start-up time).
        from psgdiag.serve.settings import ServeSettings, checked

        settings = checked(
            ServeSettings(
                host=host,
                port=port,
                token=token or "",
                allow_unredacted=allow_unredacted,
                max_bytes=parse_size(max_bytes),
                time_limit=time_limit,
                jobs=os.cpu_count() or 1 if jobs is None else jobs,
                workers=workers,
                sig_dirs=tuple(str(d) for d in signature_dirs(signatures)),
                access_log=access_log,
            ),
            no_token=no_token,
        )
        _require_extra()
        # Imported only now: the server needs the `serve` extra, checked just above.
        from psgdiag import api
        from psgdiag.serve.server import run

        api.load_kb([Path(d) for d in settings.sig_dirs])  # an invalid KB fails here, exit 5
        run(settings)
