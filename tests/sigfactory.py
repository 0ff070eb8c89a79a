"""Build small signatures from TOML text for unit tests (no bundled file involved)."""

from __future__ import annotations

import tomllib

from psgdiag.kb.problems import Problems
from psgdiag.kb.schema import parse_signature
from psgdiag.model import Signature

BASE = """
title = "t"
status = "experimental"
category = "network"
fault = "{fault}"
transient = {transient}
references = []
[explain]
summary = "{summary}"
[[remedy]]
title = "r"
command = "Get-Thing"
scope = "user"
risk = "safe"
"""


def make(
    sig_id: str, body: str, *, fault: str = "client", transient: str = "false", summary: str = "s"
) -> Signature:
    """Parse `body` (evidence, match, relations tables) into a validated Signature."""
    text = f'id = "{sig_id}"\n' + BASE.format(fault=fault, transient=transient, summary=summary)
    data = tomllib.loads(text + body)
    probs = Problems(f"{sig_id}.toml")
    sig = parse_signature(data, sig_id, probs)
    assert sig is not None, probs.items
    return sig
