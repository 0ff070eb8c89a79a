"""The OpenAPI document: the hand-written routes (openapi.json) plus the published schemas.

The response documents are described once, in psgdiag/schemas/*.json, for the CLI; they are
copied into `components.schemas` here, their `#/$defs/...` references rewritten to point inside
the copy, so the served document is complete and never drifts from the CLI's schemas.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

#: Component name -> the published schema it is copied from.
PUBLISHED = {
    "Explain": "explain.schema.json",
    "Triage": "triage.schema.json",
    "Incidents": "incidents.schema.json",
}


def _rebased(node: Any, prefix: str) -> Any:
    """Return a copy of a schema whose local references point under `prefix`."""
    if isinstance(node, dict):
        out = {k: _rebased(v, prefix) for k, v in node.items() if k not in ("$schema", "$id")}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            out["$ref"] = prefix + ref[1:]
        return out
    if isinstance(node, list):
        return [_rebased(v, prefix) for v in node]
    return node


def openapi_document() -> dict[str, Any]:
    """Return the complete OpenAPI 3.1 document."""
    here = resources.files("psgdiag.serve")
    doc: dict[str, Any] = json.loads(here.joinpath("openapi.json").read_text("utf-8"))
    schemas = doc["components"]["schemas"]
    for name, file in PUBLISHED.items():
        published = json.loads(resources.files("psgdiag.schemas").joinpath(file).read_text("utf-8"))
        schemas[name] = _rebased(published, f"#/components/schemas/{name}")
    return doc


@lru_cache(maxsize=1)
def openapi_bytes() -> bytes:
    """Return the document as served (built once per process)."""
    return json.dumps(openapi_document(), indent=2).encode("utf-8")
