"""What every explain report keeps, whatever the input: the fuzz and hostile-input tests check it.

- it is a valid document of psgdiag/schemas/explain.schema.json;
- every evidence line exists in the input (1 <= line <= line_end <= lines), and the evidence text
  is taken from those lines; line 0 (both ends) marks a hit that quotes no line, which only fact
  and incident evidence may be;
- the verdict agrees with the diagnoses (README, "Exit codes"): none without a diagnosis, else
  retry when the best one is transient or on the service side, else fix.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from psgdiag.model import Report
from psgdiag.pipeline.ingest import decode, split_lines
from psgdiag.pipeline.normalize import clean_line
from psgdiag.pipeline.textview import compact
from psgdiag.render.json_ import report_dict

#: Evidence kinds whose hit may quote no line of the input (then line = line_end = 0).
NO_LINE_KINDS = frozenset({"fact", "incident"})


@cache
def explain_validator() -> jsonschema.Draft202012Validator:
    """Return a validator for the published explain schema (checked once)."""
    text = resources.files("psgdiag.schemas").joinpath("explain.schema.json").read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def input_lines(data: bytes) -> list[str]:
    """Return the lines of the decoded input, as psgdiag numbers them (from 1)."""
    return split_lines(decode(data).text)


def expected_verdict(diagnoses: list[dict[str, Any]]) -> str:
    """Return the verdict the README's rule gives for these diagnoses (best first)."""
    if not diagnoses:
        return "none"
    best = diagnoses[0]
    return "retry" if best["transient"] or best["fault"] == "service" else "fix"


def assert_evidence_in_input(ev: dict[str, Any], lines: list[str]) -> None:
    """The evidence names lines of the input, and its text comes from them."""
    line, end = ev["line"], ev.get("line_end", ev["line"])
    if line == 0:
        assert end == 0 and ev.get("kind") in NO_LINE_KINDS, ev
        return
    assert 1 <= line <= end <= len(lines), (ev, len(lines))
    # The quote is the cleaned text of those lines, joined and capped with an ellipsis; compact()
    # drops the whitespace that cleaning and joining change.
    span = "".join(clean_line(raw.replace("\x00", ""))[0] for raw in lines[line - 1 : end])
    quoted = compact(ev["text"].removesuffix("…"))
    assert quoted and quoted in compact(span), (ev, lines[line - 1 : end])


def assert_report_invariants(doc: dict[str, Any], data: bytes) -> None:
    """Check one explain JSON document against the input bytes it was made from."""
    explain_validator().validate(doc)
    lines = input_lines(data)
    for diagnosis in doc["diagnoses"]:
        for ev in diagnosis["evidence"]:
            assert_evidence_in_input(ev, lines)
    assert doc["verdict"] == expected_verdict(doc["diagnoses"]), doc["verdict"]


def assert_report_holds(report: Report, data: bytes) -> None:
    """Check a Report through the JSON document `explain -f json` would print for it."""
    doc = json.loads(json.dumps(report_dict(report)))
    assert_report_invariants(doc, data)
