"""Probe outcomes -> cause ids, from data/probe_outcomes.toml (knowledge stays data)."""

from __future__ import annotations

from functools import lru_cache

from psgdiag.cache import data_toml


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    return {str(k): str(v) for k, v in data_toml("probe_outcomes.toml")["outcome"].items()}


def cause(outcome: str) -> str:
    """Return the cause id a probe outcome shows (KeyError for an unknown outcome name)."""
    return _table()[outcome]


def outcomes() -> dict[str, str]:
    """Return the whole outcome table (for checks)."""
    return dict(_table())
