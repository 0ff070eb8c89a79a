"""`psgdiag signatures check`: good knowledge bases pass; each broken folder gives a readable problem."""

from __future__ import annotations

import io
import json
import re
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.errors import UsageError
from psgdiag.kb import check as kbcheck
from psgdiag.kb import load as kb_mod
from psgdiag.kb.report import CheckResult, Problem

runner = CliRunner()
SCHEMA = json.loads(
    resources.files("psgdiag.schemas").joinpath("signatures-check.schema.json").read_text("utf-8")
)
BUNDLED = kb_mod.bundled_dir()
CLOBBER = (BUNDLED / "command-clobber.toml").read_text(encoding="utf-8")
CLOBBER_LINE = (
    "Install-Package: The following commands are already available on this system:'Get-Foo'. "
    "This module 'Contoso.Foo' may override the existing commands. If you still want to install "
    "this module 'Contoso.Foo', use -AllowClobber parameter.\n"
)


def _folder(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    d = tmp_path / name
    d.mkdir()
    for fname, text in files.items():
        (d / fname).write_text(text, encoding="utf-8")
    return d


def _errors(res: CheckResult, check: str) -> list[Problem]:
    return [p for p in res.problems if p.check == check and p.severity == "error"]


def _cli(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    out = runner.invoke(app, ["signatures", "check", "-f", "json", *args])
    assert "Traceback" not in out.output
    doc = json.loads(out.stdout)
    jsonschema.validate(doc, SCHEMA)
    return out.exit_code, doc


def test_bundled_knowledge_base_is_clean() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    res = kbcheck.check([], None)
    assert [p for p in res.problems if p.severity == "error"] == []
    assert res.ok and res.signatures == len(list(BUNDLED.glob("*.toml")))


def test_override_of_a_bundled_id_is_only_a_warning(tmp_path: Path) -> None:
    d = _folder(tmp_path, "extra", {"command-clobber.toml": CLOBBER})
    res = kbcheck.check([d], None)
    assert res.ok
    assert any(p.check == "unique-ids" and "overrides bundled" in p.message for p in res.problems)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    d = _folder(tmp_path, "bad", {"command-clobber.toml": 'id = "command-clobber"\ntitle = \n'})
    code, doc = _cli("--signatures", str(d))
    assert code == 5 and doc["ok"] is False
    probs = [p for p in doc["problems"] if p["check"] == "schema"]
    assert probs and probs[0]["where"].endswith("command-clobber.toml")
    assert "invalid TOML" in probs[0]["message"]


def test_duplicate_id_in_two_extra_folders(tmp_path: Path) -> None:
    a = _folder(tmp_path, "a", {"command-clobber.toml": CLOBBER})
    b = _folder(tmp_path, "b", {"command-clobber.toml": CLOBBER})
    res = kbcheck.check([a, b], None)
    dup = _errors(res, "unique-ids")
    assert len(dup) == 1 and str(b) in dup[0].where and str(a) in dup[0].message


def test_alias_clashing_with_an_id(tmp_path: Path) -> None:
    text = CLOBBER.replace('status = "stable"', 'status = "stable"\naliases = ["access-denied"]')
    res = kbcheck.check([_folder(tmp_path, "x", {"command-clobber.toml": text})], None)
    clash = _errors(res, "unique-ids")
    assert clash and clash[0].where.endswith(": aliases") and "'access-denied'" in clash[0].message


def test_bad_regex_is_reported_with_file_and_key(tmp_path: Path) -> None:
    text = CLOBBER.replace(
        "regex = '''This (?:module|script)", "regex = '''(?<=lookbehind)This (?:module|script)"
    )
    res = kbcheck.check([_folder(tmp_path, "x", {"command-clobber.toml": text})], None)
    bad = _errors(res, "regex-safety")
    assert len(bad) == 1
    assert re.search(r"command-clobber\.toml:\d+: evidence\[\d+\]\.regex$", bad[0].where)
    assert bad[0].key.endswith(".regex") and bad[0].line > 0
    assert "RE2" in bad[0].message


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("(?:x)?", "empty string"), ("a[^']{1,900}b[^']{1,900}c[^']{1,900}d", "program size")],
)
def test_regexes_that_match_anything_or_are_huge(tmp_path: Path, pattern: str, why: str) -> None:
    text = CLOBBER.replace(
        "regex = '''This (?:module|script) '(?P<module>[^']+)' may override'''",
        f"regex = '''{pattern}'''",
    )
    res = kbcheck.check([_folder(tmp_path, "x", {"command-clobber.toml": text})], None)
    assert any(why in p.message for p in _errors(res, "regex-safety"))


def test_failing_match_and_no_match_examples(tmp_path: Path) -> None:
    text = CLOBBER + (
        "\n[[example]]\nexpect = \"match\"\ntext = '''Everything installed fine.'''\n"
        f"\n[[example]]\nexpect = \"no-match\"\ntext = '''{CLOBBER_LINE}'''\n"
    )
    res = kbcheck.check([_folder(tmp_path, "x", {"command-clobber.toml": text})], None)
    bad = _errors(res, "examples")
    assert len(bad) == 2
    wheres = sorted(p.where.rsplit(": ", 1)[1] for p in bad)
    n = CLOBBER.count("[[example]]")
    assert wheres == [f"example[{n}]", f"example[{n + 1}]"]
    assert any("not diagnosed" in p.message for p in bad)
    assert any("no-match example is diagnosed" in p.message for p in bad)


def test_stable_signature_needs_examples_and_relations_must_exist(tmp_path: Path) -> None:
    head = CLOBBER.split("[[example]]")[0].replace(
        'co_occurs_with = ["untrusted-repository"', 'co_occurs_with = ["no-such-cause"'
    )
    res = kbcheck.check([_folder(tmp_path, "x", {"command-clobber.toml": head})], None)
    assert _errors(res, "example-coverage")
    rel = _errors(res, "relations")
    assert rel and "'no-such-cause'" in rel[0].message and rel[0].where.endswith("co_occurs_with")


def test_risky_remedy_without_cost_and_missing_field(tmp_path: Path) -> None:
    no_cost = CLOBBER.replace(
        'cost = "Scripts that still call the old module', 'note_x = "Scripts that still call'
    )
    no_title = CLOBBER.replace('title = "The module exports commands', 'titel = "The module')
    d = _folder(tmp_path, "x", {"command-clobber.toml": no_cost, "path-too-long.toml": no_title})
    res = kbcheck.check([d], None)
    checks = {(p.check, p.where.rsplit(": ", 1)[-1]) for p in res.problems if p.severity == "error"}
    assert ("remedy-cost", "remedy[1].cost") in checks
    assert any(c == "schema" and "titel" in w for c, w in checks)  # unknown key, file and key named
    titel = [p for p in res.problems if "titel" in p.where or "title" in p.message]
    assert len(titel) == 1 and "did you mean `title`?" in titel[0].message  # not also "missing"


def test_cases_report_precision_recall_and_bad_sidecars(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    (cases / "command-clobber").mkdir(parents=True)
    (cases / "none").mkdir()
    good = cases / "command-clobber" / "01-line.log"
    good.write_text(CLOBBER_LINE, encoding="utf-8")
    good.with_suffix(".json").write_text('{"expect": ["command-clobber"]}', encoding="utf-8")
    miss = cases / "none" / "01-clobber-labelled-none.log"
    miss.write_text(CLOBBER_LINE, encoding="utf-8")
    miss.with_suffix(".json").write_text('{"expect": ["none"]}', encoding="utf-8")
    broken = cases / "command-clobber" / "02-broken.log"
    broken.write_text("x", encoding="utf-8")
    broken.with_suffix(".json").write_text("{not json", encoding="utf-8")
    code, doc = _cli("--cases", str(cases))
    assert code == 5 and doc["cases"] == 2
    row = next(r for r in doc["stats"] if r["id"] == "command-clobber")
    assert (row["support"], row["found"], row["predicted"], row["correct"]) == (1, 1, 2, 1)
    assert row["precision"] == 0.5 and row["recall"] == 1.0
    msgs = {Path(p["where"]).name: p["message"] for p in doc["problems"] if p["check"] == "cases"}
    assert "near miss diagnosed as 'command-clobber'" in msgs["01-clobber-labelled-none.log"]
    assert "not valid JSON" in msgs["02-broken.log"]


def test_rich_output_and_usage_errors(tmp_path: Path) -> None:
    out = runner.invoke(app, ["signatures", "check", "--cases", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "ok:" in out.stdout and "signatures" in out.stdout
    bad = runner.invoke(app, ["signatures", "check", "-f", "xml"])
    assert bad.exit_code == 2 and "unknown format" in bad.output
    with pytest.raises(UsageError):
        kbcheck.run_check([], tmp_path / "missing", "json", io.StringIO())


def test_works_without_taxonomy_or_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "site-packages" / "psgdiag" / "signatures"
    fake.mkdir(parents=True)
    for f in BUNDLED.glob("*.toml"):
        shutil.copy(f, fake / f.name)
    monkeypatch.setattr(kb_mod, "bundled_dir", lambda: fake)
    assert kbcheck.taxonomy_path() is None and kbcheck.default_cases() is None
    res = kbcheck.check([], None)
    assert res.ok and res.taxonomy == "" and not any(p.check == "taxonomy" for p in res.problems)
