"""psgdiag: explain failed PowerShell module installs, with the log lines that prove it."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
