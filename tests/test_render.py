"""Golden tests: each renderer on the same fixed reports (fixed KB, fixed incidents)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import pytest

from psgdiag import api, render
from psgdiag.kb import load as kb_mod
from psgdiag.model import Incident, KnowledgeBase, Report
from psgdiag.pipeline.when import parse_at
from psgdiag.render.styled import Styled
from tests.conftest import DATA

GOLDEN = Path(__file__).parent / "golden"
UTC = dt.UTC
INCIDENTS = (
    Incident(
        id="INC-2016-05-17-cdn",
        title="Download Items Failed",
        start=dt.datetime(2016, 5, 17, tzinfo=UTC),
        end=dt.datetime(2016, 5, 20, 8, tzinfo=UTC),
        kind="incident",
        impact="Y",
        causes=("corrupt-package-download",),
        summary="Packages arrived damaged from the CDN.",
        workaround="Retry after the CDN was switched off.",
    ),
)


def _reports(name: str) -> list[Report]:
    full = kb_mod.load([DATA / "golden_kb"], use_cache=False)
    kb = KnowledgeBase(tuple(s for s in full.signatures if s.source.startswith(str(DATA))), "gold")
    at = parse_at("2016-05-18") if name == "may-at" else None
    data = (DATA / "seed-2016-05.log").read_bytes() if name.startswith("may") else b"pip failed\n"
    return [api.diagnose_bytes(data, kb=kb, at=at, incidents=INCIDENTS, source="case.log")]


CASES = ["may", "may-at", "nothing"]


@pytest.fixture(autouse=True)
def _raw_confidence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Golden output shows the ranker's own numbers: a refitted calibration must not move them."""
    from psgdiag.pipeline import calibrate

    identity = calibrate.Calibration(calibrate.Curve((), ()), calibrate.Curve((), ()), 0.0)
    monkeypatch.setattr(calibrate, "calibration", lambda: identity)


@pytest.mark.parametrize("fmt", ["rich", "json", "markdown"])
@pytest.mark.parametrize("name", CASES)
def test_golden(fmt: str, name: str) -> None:
    out = io.StringIO()
    render.get(fmt)(_reports(name), out, render.Options(width=100))
    text = out.getvalue()
    path = GOLDEN / fmt / f"{name}.txt"
    if os.environ.get("PSGDIAG_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_is_only_json_and_has_the_contract_fields() -> None:
    out = io.StringIO()
    render.get("json")(_reports("may-at"), out, render.Options())
    doc = json.loads(out.getvalue())
    d = doc["diagnoses"][0]
    for key in (
        "cause",
        "confidence",
        "fault",
        "transient",
        "incident",
        "possible_incidents",
        "evidence",
        "remedies",
    ):
        assert key in d
    assert d["incident"]["id"] == "INC-2016-05-17-cdn"
    assert d["fault"] == "service" and d["transient"] is True
    assert all(isinstance(e["line"], int) for e in d["evidence"])


def test_rich_falls_back_to_ascii_rules_on_an_ascii_console() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", errors="replace")
    render.get("rich")(_reports("may"), out, render.Options())
    out.flush()
    text = raw.getvalue().decode("ascii")
    assert "-- corrupt-package-download" in text


def test_no_markup_leaks_into_plain_formats() -> None:
    for fmt in ("json", "markdown"):
        out = io.StringIO()
        render.get(fmt)(_reports("may"), out, render.Options())
        assert "[bold" not in out.getvalue() and "[/]" not in out.getvalue()


def test_colour_card_uses_ansi_styles_and_plain_card_has_none() -> None:
    coloured, plain = io.StringIO(), io.StringIO()
    render.get("rich")(_reports("may"), coloured, render.Options(color=True))
    render.get("rich")(_reports("may"), plain, render.Options())
    assert "\x1b[1;31m── corrupt-package-download\x1b[0m" in coloured.getvalue()
    assert "\x1b[36m  L" in coloured.getvalue()  # evidence line numbers in cyan
    assert "\x1b" not in plain.getvalue()
    # the same words either way
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.getvalue()) == plain.getvalue()


def test_control_characters_from_the_log_reach_the_terminal_inert() -> None:
    hostile = b"\x1b]0;owned\x07Install-Package : Package 'x' failed to be installed\x1b[2J\r\n"
    data = (DATA / "seed-2016-05.log").read_bytes().replace(b"\r\n", b"\n", 1) + hostile
    full = kb_mod.load([DATA / "golden_kb"], use_cache=False)
    kb = KnowledgeBase(tuple(s for s in full.signatures if s.source.startswith(str(DATA))), "gold")
    report = api.diagnose_bytes(data, kb=kb, incidents=INCIDENTS, source="x.log")
    for color in (False, True):
        out = io.StringIO()
        render.get("rich")([report], out, render.Options(color=color))
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text)


def test_styled_lines_survive_a_console_code_page_without_the_characters() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="cp1252", errors="strict")
    Styled(out, color=False).line(("bold", "Paket"), " インストール ", "ok")
    out.flush()
    assert raw.getvalue() == b"Paket ?????? ok\n"


def test_styled_lines_neutralise_escape_sequences_in_any_span() -> None:
    out = io.StringIO()
    Styled(out, color=True).line(("cyan", "L1 "), "a\x1b[2Jb\x07c\x9bd\te")
    assert out.getvalue() == "\x1b[36mL1 \x1b[0ma\ufffd[2Jb\ufffdc\ufffdd\te\n"
