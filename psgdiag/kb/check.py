"""`psgdiag signatures check`: load every signature file, run the registered checks, report.

Each file is read once (psgdiag.kb.load.read_signature: schema problems with file, key path and
line); the lint checks are registered functions in psgdiag.kb.checks; with a cases folder the
measured precision/recall per signature (psgdiag.kb.cases) follows. Works from an installed
wheel: the taxonomy file and tests/cases are only used when they are found beside a checkout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from psgdiag import regexcode
from psgdiag.errors import KbError, UsageError
from psgdiag.kb import load as kb_mod
from psgdiag.kb.cases import run_cases
from psgdiag.kb.catalog import read_catalog
from psgdiag.kb.checks import CHECKS, CheckInput
from psgdiag.kb.coverage import coverage
from psgdiag.kb.problems import Problem
from psgdiag.kb.report import CheckResult, render_rich, to_json
from psgdiag.model import KnowledgeBase, Signature

_TAXONOMY_ROW = regexcode.compile(r"^\|\s*([a-z0-9]+(?:-[a-z0-9]+)+)\s*\|")


def taxonomy_path() -> Path | None:
    """Return ../shared/taxonomy.md relative to the checkout, when it exists."""
    root = kb_mod.bundled_dir().resolve().parent
    for cand in (root.parent / "shared" / "taxonomy.md", root / "taxonomy.md"):
        if cand.is_file():
            return cand
    return None


def taxonomy_ids(path: Path) -> list[str]:
    """Read the cause ids from the first column of the taxonomy table."""
    ids: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _TAXONOMY_ROW.match(line)
        if m and m.group(1) not in ids:
            ids.append(m.group(1))
    return ids


def load_each(dirs: Iterable[Path], res: CheckResult) -> list[Signature]:
    """Load every file on its own, so one broken file does not hide the others' problems."""
    sigs: list[Signature] = []
    for folder in dirs:
        if not folder.is_dir():
            res.extend([Problem(str(folder), "", "is not a folder of signatures")])
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix != ".toml":
                if path.is_file() and not path.name.startswith("."):
                    res.add("schema", "warning", str(path), "ignored: not a .toml file")
                continue
            sig, problems, _raw = kb_mod.read_signature(path)
            res.extend(problems)
            if sig is not None:
                sigs.append(sig)
    return sigs


def merge(sigs: list[Signature]) -> tuple[list[Signature], list[tuple[Signature, Signature]]]:
    """Apply overrides (a later folder wins): the signatures by id and each (old, new) override."""
    by_id: dict[str, Signature] = {}
    overrides: list[tuple[Signature, Signature]] = []
    for sig in sigs:
        prev = by_id.get(sig.id)
        if prev is not None:
            overrides.append((prev, sig))
        by_id[sig.id] = sig
    return sorted(by_id.values(), key=lambda s: s.id), overrides


def check(dirs: list[Path], cases: Path | None) -> CheckResult:
    """Run every check over the bundled signatures plus `dirs`, and the cases when given."""
    res = CheckResult()
    bundled = kb_mod.bundled_dir()
    sigs, overrides = merge(load_each([bundled, *dirs], res))
    tax_file = taxonomy_path()
    tax = taxonomy_ids(tax_file) if tax_file is not None else None
    res.taxonomy = str(tax_file) if tax_file is not None else ""
    kb = KnowledgeBase(signatures=tuple(sigs), version="check", sources=tuple(map(str, dirs)))
    kb, unknown = kb_mod.with_messages(kb)
    res.extend(unknown)
    kb = kb_mod.with_requirements(kb)
    res.signatures = len(sigs)
    try:
        res.kb_version = kb_mod.load(dirs, use_cache=False).version
    except KbError:
        res.kb_version = "invalid"
    inp = CheckInput(
        signatures=tuple(sigs),
        bundled=bundled,
        taxonomy=tuple(tax) if tax is not None else None,
        taxonomy_file=res.taxonomy,
        kb=kb,
        overrides=tuple(overrides),
    )
    for run in CHECKS.values():
        res.extend(run(inp))
    catalog, catalog_problems = read_catalog()
    res.extend(catalog_problems)
    res.coverage = coverage(kb, catalog)
    if cases is not None:
        run_cases(kb, cases, tax, res)
    return res


def default_cases() -> Path | None:
    """tests/cases of the checkout the package runs from, when present."""
    cand = kb_mod.bundled_dir().resolve().parent / "tests" / "cases"
    return cand if cand.is_dir() else None


def run_check(dirs: list[Path], cases: Path | None, fmt: str, out: TextIO) -> bool:
    """Run the checks, print them as `fmt` (json, else rich) to `out`; return True when clean."""
    if cases is not None and not cases.is_dir():
        raise UsageError(
            f"cases folder {str(cases)!r} does not exist",
            hint="pass a folder of <cause>/NN-name.log files with .json sidecars",
        )
    res = check(dirs, cases if cases is not None else default_cases())
    if fmt == "json":
        json.dump(to_json(res), out, indent=2)
        out.write("\n")
    else:
        render_rich(res, out)
    return res.ok
