"""Renderers: one module per output format, all with `render(reports, out, options)`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TextIO

from psgdiag.model import Report
from psgdiag.record import record

FORMATS = ("rich", "json", "markdown", "github", "azure", "junit")


@record
class Options:
    """How to render: colour, width, redaction, verbosity."""

    color: bool = False
    width: int | None = None
    redact: bool = True
    verbose: bool = False
    ascii_only: bool = False
    title: str = "psgdiag"


Renderer = Callable[[Sequence[Report], TextIO, Options], None]


def get(fmt: str) -> Renderer:
    """Return the renderer for a format name (imported lazily)."""
    module = {"rich": "terminal", "json": "json_"}.get(fmt, fmt)
    mod = import_module(f"psgdiag.render.{module}")
    fn: Renderer = mod.render
    return fn
