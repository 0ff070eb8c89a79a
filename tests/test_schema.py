"""The published JSON Schema validates what `explain --format json` prints."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
from typer.testing import CliRunner

from psgdiag.cli import app
from tests.conftest import DATA


def _schema() -> dict:  # type: ignore[type-arg]
    text = resources.files("psgdiag.schemas").joinpath("explain.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def test_schema_is_valid_and_matches_output(tmp_path) -> None:  # type: ignore[no-untyped-def]
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    runner = CliRunner()
    for path in sorted(DATA.glob("*.log")):
        for extra in ([], ["--at", "2016-07-12"]):
            res = runner.invoke(app, ["explain", "-f", "json", *extra, str(path)])
            jsonschema.validate(json.loads(res.stdout), schema)
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    res = runner.invoke(app, ["explain", "-f", "json", str(empty)])
    jsonschema.validate(json.loads(res.stdout), schema)
