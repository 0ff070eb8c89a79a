"""The published signature JSON schema: every bundled signature validates, and it says what the loader says."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from psgdiag.kb.schema import CATEGORIES, MATCHER_KEYS, STREAMS, TABLE_KEYS
from psgdiag.model import Fault, Risk, Scope, Status, Strength

BUNDLED = Path(__file__).resolve().parent.parent / "signatures"
SCHEMA = json.loads(
    resources.files("psgdiag.schemas").joinpath("signature.schema.json").read_text("utf-8")
)


def _as_json(value: Any) -> Any:
    """TOML values as an editor's schema validator sees them (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_every_bundled_signature_validates(path: Path) -> None:
    data = _as_json(tomllib.loads(path.read_text("utf-8")))
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def _properties(table: str) -> set[str]:
    props = SCHEMA["properties"]
    if table == "":
        return set(props)
    if table == "evidence":
        return set(SCHEMA["$defs"]["evidence"]["properties"])
    node = props[table]
    return set((node["items"] if node.get("type") == "array" else node)["properties"])


@pytest.mark.parametrize("table", sorted(TABLE_KEYS))
def test_the_schema_allows_exactly_the_keys_the_loader_allows(table: str) -> None:
    assert _properties(table) == set(TABLE_KEYS[table])


def test_enumerations_agree_with_the_model() -> None:
    props = SCHEMA["properties"]
    ev = SCHEMA["$defs"]["evidence"]["properties"]
    assert props["status"]["enum"] == [s.value for s in Status]
    assert props["fault"]["enum"] == [f.value for f in Fault]
    assert set(props["category"]["enum"]) == set(CATEGORIES)
    remedy = props["remedy"]["items"]["properties"]
    assert remedy["scope"]["enum"] == [s.value for s in Scope]
    assert remedy["risk"]["enum"] == [r.value for r in Risk]
    assert ev["strength"]["enum"] == [s.value for s in Strength]
    assert ev["stream"]["enum"] == list(STREAMS)
    kinds = [next(iter(alt["required"])) for alt in SCHEMA["$defs"]["evidence"]["oneOf"]]
    assert kinds == list(MATCHER_KEYS)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["explain"].update(hnit="x"), ["explain"]),
        (lambda d: d["remedy"][0].update(verfiy="x"), ["remedy", 0]),
        (lambda d: d["evidence"][0].update(regex="a"), ["evidence", 0]),  # two matcher keys
        (
            lambda d: d["remedy"][0].update(risk="unsafe", cost=None) or d["remedy"][0].pop("cost"),
            ["remedy", 0],
        ),
    ],
)
def test_the_schema_rejects_what_the_loader_rejects(change: Any, where: list[Any]) -> None:
    data = _as_json(tomllib.loads((BUNDLED / "path-too-long.toml").read_text("utf-8")))
    change(data)
    errors = list(_validator().iter_errors(data))
    assert errors and any(list(e.path)[: len(where)] == where for e in errors)
