"""The knowledge base as data: bundled files parse, cover the taxonomy, and loader errors are complete."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.errors import KbError
from psgdiag.kb import load as kb_mod
from psgdiag.kb.check import taxonomy_ids
from tests.conftest import CASES, DATA, load_sidecar

BUNDLED = kb_mod.bundled_dir()
runner = CliRunner()


def test_every_bundled_signature_parses_and_is_named_after_its_id() -> None:
    kb = kb_mod.load(use_cache=False)
    files = sorted(BUNDLED.glob("*.toml"))
    assert len(kb.signatures) == len(files) > 0
    assert [s.id for s in kb.signatures] == sorted(f.stem for f in files)


def test_signatures_folder_holds_only_toml_files() -> None:
    others = [p.name for p in BUNDLED.iterdir() if p.suffix != ".toml" and p.name != "__pycache__"]
    assert others == []


def _positive_cases(cause: str) -> list[Path]:
    logs = sorted((CASES / cause).glob("*.log"))
    return [p for p in logs if load_sidecar(p).get("expect", [None])[0] == cause]  # type: ignore[index]


def test_every_taxonomy_cause_has_a_signature_and_two_positive_cases() -> None:
    tax = DATA / "taxonomy.md"
    have = {s.id for s in kb_mod.load().signatures}
    missing = [c for c in taxonomy_ids(tax) if c not in have]
    thin = [c for c in taxonomy_ids(tax) if len(_positive_cases(c)) < 2]
    assert missing == [], f"causes without a signature: {missing}"
    assert thin == [], f"causes with fewer than 2 positive sample cases: {thin}"


def test_near_misses_exist_and_are_labelled_none() -> None:
    logs = sorted((CASES / "none").glob("*.log"))
    assert len(logs) >= 5
    assert all(load_sidecar(p).get("expect") == ["none"] for p in logs)


def test_loader_reports_every_problem_at_once_with_file_and_key(tmp_path: Path) -> None:
    good = (BUNDLED / "path-too-long.toml").read_text(encoding="utf-8")
    (tmp_path / "command-clobber.toml").write_text('id = "command-clobber"\ntitle = [', "utf-8")
    (tmp_path / "path-too-long.toml").write_text('colour = "red"\n' + good, "utf-8")
    (tmp_path / "module-in-use.toml").write_text(
        (BUNDLED / "module-in-use.toml").read_text("utf-8").replace('title = "', 'headline = "', 1),
        "utf-8",
    )
    bad_rx = (BUNDLED / "access-denied.toml").read_text("utf-8")
    bad_rx = bad_rx.replace("regex = '''Unable to (?:create", "regex = '''(Unable to (?:create", 1)
    (tmp_path / "access-denied.toml").write_text(bad_rx, "utf-8")
    with pytest.raises(KbError) as info:
        kb_mod.load([tmp_path], use_cache=False)
    probs = info.value.problems
    joined = "\n".join(probs)
    assert len(probs) >= 4, joined
    assert re.search(r"command-clobber\.toml: invalid TOML", joined)
    assert re.search(r"path-too-long\.toml:1: colour: unknown key `colour`", joined)
    assert re.search(r"module-in-use\.toml: missing required key `title`", joined)
    assert re.search(r"access-denied\.toml:\d+: evidence\[6\]\.regex: does not compile", joined)


def test_signatures_dir_overrides_a_bundled_id_in_explain(tmp_path: Path) -> None:
    text = (BUNDLED / "command-clobber.toml").read_text("utf-8")
    marker = "OVERRIDE-MARKER clobber summary"
    text = re.sub(r'(?m)^summary = ".*"$', f'summary = "{marker}"', text, count=1)
    extra = tmp_path / "sigs"
    extra.mkdir()
    (extra / "command-clobber.toml").write_text(text, "utf-8")
    log = tmp_path / "clobber.log"
    log.write_text(
        "Install-Package: The following commands are already available on this system:'Get-Foo'. "
        "This module 'Contoso.Foo' may override the existing commands. If you still want to "
        "install this module 'Contoso.Foo', use -AllowClobber parameter.\n",
        "utf-8",
    )
    res = runner.invoke(app, ["explain", "-f", "json", "--signatures", str(extra), str(log)])
    doc = json.loads(res.stdout)
    assert doc["diagnoses"][0]["cause"] == "command-clobber"
    assert doc["diagnoses"][0]["summary"] == marker
    plain = runner.invoke(app, ["explain", "-f", "json", str(log)])
    assert json.loads(plain.stdout)["diagnoses"][0]["summary"] != marker


def test_probe_outcomes_name_known_causes(kb) -> None:  # type: ignore[no-untyped-def]
    from psgdiag.probe.model import outcomes

    table = outcomes()
    assert table, "data/probe_outcomes.toml is empty"
    known = {s.id for s in kb.signatures}
    assert set(table.values()) <= known


def test_rebuilding_a_snapshot_prunes_the_oldest_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from psgdiag.cache import KEEP_KB_SNAPSHOTS, prune
    from psgdiag.kb import load as kb_mod

    monkeypatch.setenv("PSGDIAG_CACHE_DIR", str(tmp_path))
    for i in range(KEEP_KB_SNAPSHOTS + 4):
        old = tmp_path / f"kb-stale{i:02d}.pickle"
        old.write_bytes(b"x")
        os.utime(old, ns=(i * 10**9, i * 10**9))
    (tmp_path / "data-keep.pickle").write_bytes(b"x")
    kb_mod.load()  # builds and saves a fresh snapshot, then prunes
    left = sorted(p.name for p in tmp_path.glob("kb-*.pickle"))
    assert len(left) == KEEP_KB_SNAPSHOTS
    assert "kb-stale00.pickle" not in left and "kb-stale11.pickle" in left
    assert (tmp_path / "data-keep.pickle").exists()  # other kinds are pruned on their own
    prune("kb-", 1)
    assert len(list(tmp_path.glob("kb-*.pickle"))) == 1


@pytest.mark.parametrize(
    ("old", "new", "key", "nearest"),
    [
        ("\nhint = ", "\nhnit = ", "explain.hnit", "hint"),
        ('\nverify = "', '\nverfiy = "', "remedy[0].verfiy", "verify"),
        (
            "\nconsequence_of = ",
            "\nconsequense_of = ",
            "relations.consequense_of",
            "consequence_of",
        ),
        ("\nrequires_any = ", "\nrequires_anny = ", "match.requires_anny", "requires_any"),
        ('\nstrength = "', '\nstrenght = "', "evidence[0].strenght", "strength"),
        ('\nexpect = "', '\nexpcet = "', "example[0].expcet", "expect"),
        ('\ntitle = "', '\ntilte = "', "tilte", "title"),
    ],
)
def test_an_unknown_key_in_any_table_is_one_error_naming_the_nearest_key(
    tmp_path: Path, old: str, new: str, key: str, nearest: str
) -> None:
    text = (BUNDLED / "nuget-provider-missing.toml").read_text("utf-8")
    assert old in text
    (tmp_path / "nuget-provider-missing.toml").write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(KbError) as info:
        kb_mod.load([tmp_path], use_cache=False)
    probs = info.value.problems
    assert len(probs) == 1, probs  # a misspelt required key is not also reported as missing
    line = text.replace(old, new, 1)[: text.replace(old, new, 1).index(new) + 1].count("\n") + 1
    assert probs[0] == (
        f"{tmp_path / 'nuget-provider-missing.toml'}:{line}: {key}: "
        f"unknown key `{key.rsplit('.', 1)[-1]}` (did you mean `{nearest}`?)"
    )


def test_signatures_check_exits_5_on_an_unknown_key_with_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from psgdiag.cli import app

    text = (BUNDLED / "path-too-long.toml").read_text("utf-8").replace("\nhint = ", "\nhnit = ", 1)
    (tmp_path / "path-too-long.toml").write_text(text, "utf-8")
    res = CliRunner().invoke(app, ["signatures", "check", "--signatures", str(tmp_path)])
    assert res.exit_code == 5
    lines = [ln for ln in res.stdout.splitlines() if "hnit" in ln]
    assert len(lines) == 1
    assert "path-too-long.toml:" in lines[0] and "explain.hnit" in lines[0]
    assert "did you mean `hint`?" in lines[0]


def test_a_bad_evidence_entry_is_reported_once_not_again_by_match(tmp_path: Path) -> None:
    text = (BUNDLED / "path-too-long.toml").read_text("utf-8")
    text = text.replace('strength = "strong"', 'strength = "mighty"', 1)
    (tmp_path / "path-too-long.toml").write_text(text, "utf-8")
    with pytest.raises(KbError) as info:
        kb_mod.load([tmp_path], use_cache=False)
    assert len(info.value.problems) == 1
    assert "evidence[0].strength: 'mighty' is not one of" in info.value.problems[0]


def test_wrong_types_in_optional_fields_are_reported(tmp_path: Path) -> None:
    text = (BUNDLED / "path-too-long.toml").read_text("utf-8")
    text = text.replace("\nhint = ", "\nhint = 3 # ", 1)
    (tmp_path / "path-too-long.toml").write_text(text, "utf-8")
    with pytest.raises(KbError) as info:
        kb_mod.load([tmp_path], use_cache=False)
    assert any("explain.hint: must be a string, not int" in p for p in info.value.problems)
