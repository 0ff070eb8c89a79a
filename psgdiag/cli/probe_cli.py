"""`psgdiag probe [MODULE]`: check the gallery live, step by step, as Install-Module would."""

from __future__ import annotations

import sys

import typer

from psgdiag.cli.common import handled, use_color
from psgdiag.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add the probe command to the app."""
    from psgdiag.probe import DEFAULT_BOOTSTRAP_URL, DEFAULT_MODULE, DEFAULT_REPOSITORY

    @app.command()
    @handled
    def probe(
        module: str = typer.Argument(
            DEFAULT_MODULE, help="Module to resolve and download (a small one by default)."
        ),
        version: str = typer.Option(
            None, "--version", help="Exact version (default: the latest stable one)."
        ),
        repository: str = typer.Option(
            DEFAULT_REPOSITORY, "--repository", help="NuGet v2 feed URL (user:pass@ allowed)."
        ),
        proxy: str = typer.Option(
            None, "--proxy", help="Proxy URL (default: HTTPS_PROXY/HTTP_PROXY, minus NO_PROXY)."
        ),
        timeout: float = typer.Option(30.0, "--timeout", help="Overall time budget in seconds."),
        fmt: str = typer.Option("rich", "--format", "-f", help="Output format: rich or json."),
        bootstrap: bool = typer.Option(
            False, "--bootstrap", help="Also check the NuGet provider bootstrap endpoint."
        ),
        bootstrap_url: str = typer.Option(
            DEFAULT_BOOTSTRAP_URL, "--bootstrap-url", help="Bootstrap URL to check (a mirror)."
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
        from psgdiag.probe import ProbeOptions, exit_code, run_probe
        from psgdiag.probe_render import render_json, render_rich

        if fmt not in ("rich", "json"):
            raise UsageError(f"unknown format {fmt!r}", hint="use rich or json")
        opts = ProbeOptions(
            module=module,
            version=version,
            repository=repository,
            proxy=proxy,
            timeout=timeout,
            bootstrap=bootstrap,
            bootstrap_url=bootstrap_url,
            legacy_client=legacy_client,
        )
        result = run_probe(opts)
        if fmt == "json":
            render_json(result, sys.stdout)
        else:
            render_rich(result, sys.stdout, color=use_color(color, sys.stdout))
        sys.stdout.flush()
        raise typer.Exit(int(exit_code(result)))
