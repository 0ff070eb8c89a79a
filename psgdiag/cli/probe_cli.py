"""`psgdiag probe [MODULE]`: check the gallery live, step by step, as Install-Module would."""

from __future__ import annotations

import sys

import typer

from psgdiag.cli.common import TABLE_FORMAT, TableFormat, handled, use_color


def register(app: typer.Typer) -> None:
    """Add the probe command to the app (psgdiag.probe is imported only when it runs)."""

    @app.command()
    @handled
    def probe(
        ctx: typer.Context,
        module: str = typer.Argument(
            None,
            help="Module to resolve and download (default: Microsoft.PowerShell.SecretManagement, "
            "small and stable).",
            show_default=False,
        ),
        version: str = typer.Option(
            None, "--version", help="Exact version (default: the latest stable one)."
        ),
        repository: str = typer.Option(
            None,
            "--repository",
            help="NuGet v2 feed URL, user:pass@ allowed (default: the PowerShell Gallery, "
            "https://www.powershellgallery.com/api/v2).",
            show_default=False,
        ),
        proxy: str = typer.Option(
            None, "--proxy", help="Proxy URL (default: HTTPS_PROXY/HTTP_PROXY, minus NO_PROXY)."
        ),
        timeout: float = typer.Option(30.0, "--timeout", help="Overall time budget in seconds."),
        fmt: TableFormat = TABLE_FORMAT,
        bootstrap: bool = typer.Option(
            False, "--bootstrap", help="Also check the NuGet provider bootstrap endpoint."
        ),
        bootstrap_url: str = typer.Option(
            None,
            "--bootstrap-url",
            help="Bootstrap URL to check with --bootstrap (default: the go.microsoft.com fwlink "
            "Windows PowerShell uses).",
            show_default=False,
        ),
        legacy_client: bool = typer.Option(
            False,
            "--legacy-client",
            help="Judge as an old TLS 1.0/1.1-only client (a refusal becomes the verdict).",
        ),
        color: bool = typer.Option(
            None, "--color/--no-color", help="Force colour on or off.", show_default=False
        ),
    ) -> None:
        """Check the gallery live: connection, TLS, feed, download, zip and hash, step by step."""
        # Imported when the command runs, not when the CLI starts (start-up time).
        from psgdiag.probe.model import (
            DEFAULT_BOOTSTRAP_URL,
            DEFAULT_MODULE,
            DEFAULT_REPOSITORY,
            ProbeOptions,
        )
        from psgdiag.probe.render import render_json, render_rich
        from psgdiag.probe.run import exit_code, run_probe

        opts = ProbeOptions(
            module=module or DEFAULT_MODULE,
            version=version,
            repository=repository or DEFAULT_REPOSITORY,
            proxy=proxy,
            timeout=timeout,
            bootstrap=bootstrap,
            bootstrap_url=bootstrap_url or DEFAULT_BOOTSTRAP_URL,
            legacy_client=legacy_client,
        )
        result = run_probe(opts)
        if fmt == "json":
            render_json(result, sys.stdout)
        else:
            render_rich(result, sys.stdout, color=use_color(color, sys.stdout))
        sys.stdout.flush()
        raise typer.Exit(int(exit_code(result)))
