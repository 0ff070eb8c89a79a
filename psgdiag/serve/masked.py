"""Redaction for a long-running server: psgdiag.redact's rules, remembered per string.

Most strings in an answer come from the knowledge base (explanations, remedies, incidents) and
recur in every answer; masking them again costs more than the diagnosis itself (about 6 ms of a
small paste's 15). Short strings are remembered, long ones (whole logs) are not, so the cache
stays small whatever is sent.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from psgdiag.redact import redact

REMEMBER_UP_TO = 2048  # characters
REMEMBERED = 8192  # strings


@lru_cache(maxsize=REMEMBERED)
def _remembered(text: str) -> str:
    return redact(text)


def masked(text: str) -> str:
    """Return the text with secrets and personal data masked (as psgdiag.redact.redact)."""
    return _remembered(text) if len(text) <= REMEMBER_UP_TO else redact(text)


def masked_tree(value: Any) -> Any:
    """Return a copy of a JSON-shaped value with every string masked."""
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, list):
        return [masked_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: masked_tree(v) for k, v in value.items()}
    return value
