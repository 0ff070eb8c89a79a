"""Each registered check of `signatures check`, on its own, with small signatures."""

from __future__ import annotations

from pathlib import Path

from psgdiag.kb.checks import CHECKS, CheckInput
from psgdiag.kb.problems import Problem
from psgdiag.model import KnowledgeBase, Signature
from psgdiag.record import replace
from tests.sigfactory import make

EV = """
[[evidence]]
name = "a"
strength = "strong"
text = "{text}"
[match]
requires_any = ["a"]
"""
BUNDLED = Path("/nonexistent/bundled")


def _sig(sig_id: str, text: str = "a distinctive phrase here", extra: str = "") -> Signature:
    return make(sig_id, EV.format(text=text) + extra)


def _run(name: str, *sigs: Signature, **kw: object) -> list[Problem]:
    inp = CheckInput(signatures=tuple(sigs), bundled=BUNDLED, **kw)  # type: ignore[arg-type]
    return list(CHECKS[name](inp))


def test_every_check_is_registered_once_with_its_name() -> None:
    assert set(CHECKS) == {
        "unique-ids",
        "taxonomy",
        "regex-safety",
        "literal-length",
        "example-coverage",
        "relations",
        "remedy-verify",
        "examples",
        "describe",
    }


def test_unique_ids_overrides_clashes_and_aliases() -> None:
    a, b = _sig("one"), replace(_sig("one"), source="/extra/one.toml")
    bundled_a = replace(a, source=str(BUNDLED / "one.toml"))
    warn = _run("unique-ids", b, overrides=((bundled_a, b),))
    assert [(p.severity, p.message) for p in warn] == [("warning", "overrides bundled 'one'")]
    dup = _run("unique-ids", b, overrides=((a, b),))
    assert dup[0].severity == "error" and "also defined in one.toml" in dup[0].message
    alias = replace(_sig("two"), aliases=("one",))
    clash = _run("unique-ids", a, alias)
    assert [(p.key, p.check) for p in clash] == [("aliases", "unique-ids")]


def test_taxonomy_ids_both_ways() -> None:
    found = _run("taxonomy", _sig("not-listed"), taxonomy=("listed",), taxonomy_file="tax.md")
    assert {(p.severity, p.file) for p in found} == {
        ("error", "not-listed.toml"),
        ("warning", "tax.md"),
    }
    assert _run("taxonomy", _sig("x")) == []  # no taxonomy file: nothing to compare


def test_regex_safety_program_size_and_empty_match() -> None:
    empty = make("r", EV.replace('text = "{text}"', "regex = '''(?:x)?'''"))
    assert "matches the empty string" in _run("regex-safety", empty)[0].message
    huge = make("h", EV.replace('text = "{text}"', "regex = '''(?:abcdefgh){500}'''"))
    assert "program size" in _run("regex-safety", huge)[0].message
    assert _run("regex-safety", make("ok", EV.replace('text = "{text}"', "regex = 'abc+d'"))) == []


def test_literal_length() -> None:
    short = _run("literal-length", _sig("s", text="too short"))
    assert [(p.severity, p.key) for p in short] == [("warning", "evidence[0].text")]
    mostly_cjk = _run("literal-length", _sig("c", text="続行するには必要です abc"))
    assert mostly_cjk[0].severity == "error"
    assert _run("literal-length", _sig("l")) == []


def test_example_coverage() -> None:
    stable = replace(_sig("s"), status="stable")
    assert _run("example-coverage", stable)[0].severity == "error"
    assert _run("example-coverage", _sig("e"))[0].message == "has no examples"


def test_relations() -> None:
    rel = "[relations]\nconsequence_of = ['{}']\n"
    selfref = _sig("a", extra=rel.format("a"))
    assert _run("relations", selfref)[0].message == "names itself"
    unknown = _run("relations", _sig("a", extra=rel.format("nope")))
    assert "not a known signature id" in unknown[0].message
    planned = _run("relations", _sig("a", extra=rel.format("later")), taxonomy=("a", "later"))
    assert planned[0].severity == "warning"


def test_remedy_verify() -> None:
    found = _run("remedy-verify", _sig("v"))
    assert [(p.key, p.severity) for p in found] == [("remedy[0].verify", "warning")]


def test_examples_and_outranks() -> None:
    ex = '[[example]]\nexpect = "match"\ntext = "{}"\n[[example]]\nexpect = "no-match"\ntext = "{}"\n'
    good = _sig("g", extra=ex.format("a distinctive phrase here", "nothing at all"))
    bad = _sig("b", extra=ex.format("nothing", "a distinctive phrase here"))
    kb = KnowledgeBase(signatures=(bad,), version="t")
    msgs = sorted(p.message for p in _run("examples", bad, kb=kb))
    assert msgs[0] == "match example is not diagnosed (no hit)"
    assert msgs[1] == "no-match example is diagnosed"
    rival = _sig("r", text="a distinctive phrase here", extra="")
    kb2 = KnowledgeBase(signatures=(good, replace(rival, id="a-rival")), version="t")
    assert _run("examples", good, kb=KnowledgeBase(signatures=(good,), version="t")) == []
    assert all(p.check in ("examples", "outranks") for p in _run("examples", good, kb=kb2))


def test_describe_wants_words_for_regex_evidence_that_decides() -> None:
    body = EV.replace('text = "{text}"', "regex = 'abc+d'")
    found = _run("describe", make("d", body))
    assert [(p.key, p.severity) for p in found] == [("evidence[0].describe", "warning")]
    worded = make("w", body.replace("regex = 'abc+d'", "regex = 'abc+d'\ndescribe = 'an abc line'"))
    assert _run("describe", worded) == []
