"""`psgdiag signatures check`: lint the knowledge base as small named checks with a severity.

Checks: schema (every loader problem at once), unique-ids, taxonomy, regex-safety, literal-length,
examples, example-coverage, relations, remedy-cost, remedy-verify, outranks; with a cases folder
also the measured precision/recall per signature (psgdiag.kbcases). Works from an installed wheel:
the taxonomy file and tests/cases are only used when they are found beside a checkout.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from psgdiag.errors import KbError, UsageError
from psgdiag.kb import load as kb_mod
from psgdiag.kb.report import CheckResult, to_json
from psgdiag.model import KnowledgeBase, Risk, Signature, Status

MAX_PROGRAM_SIZE = 3000  # RE2 program size: a bound on memory and per-character work
MIN_LITERAL = 12  # compact characters; shorter literals match unrelated text
_TAXONOMY_ROW = re.compile(r"^\|\s*([a-z0-9]+(?:-[a-z0-9]+)+)\s*\|")
_PROBLEM_KEY = re.compile(r"^(?P<file>.+?\.toml): (?P<rest>.*)$")


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


def _classify(raw: str) -> tuple[str, str, str]:
    """Split a loader problem into (check, where, message)."""
    m = _PROBLEM_KEY.match(raw)
    where, msg = (m.group("file"), m.group("rest")) if m else (raw.split(": ")[0], raw)
    if m and ": " in m.group("rest"):
        key, msg = m.group("rest").split(": ", 1)
        where = f"{where}: {key}"
    check = "schema"
    if ".regex" in where:
        check = "regex-safety"
    elif ".cost" in where:
        check = "remedy-cost"
    return check, where, msg


def load_each(dirs: Iterable[Path], res: CheckResult) -> list[Signature]:
    """Load every file on its own, so one broken file does not hide the others' problems."""
    sigs: list[Signature] = []
    for folder in dirs:
        if not folder.is_dir():
            res.add("schema", "error", str(folder), "is not a folder of signatures")
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix != ".toml":
                if path.is_file() and not path.name.startswith("."):
                    res.add("schema", "warning", str(path), "ignored: not a .toml file")
                continue
            probs = kb_mod.Problems()
            try:
                if path.stat().st_size > kb_mod.MAX_FILE_BYTES:
                    res.add("schema", "error", str(path), "too large to be a signature file")
                    continue
                data = tomllib.loads(path.read_bytes().decode("utf-8"))
            except UnicodeDecodeError:
                res.add("schema", "error", str(path), "is not UTF-8 text")
                continue
            except tomllib.TOMLDecodeError as exc:
                res.add("schema", "error", str(path), f"invalid TOML: {exc}")
                continue
            except OSError as exc:
                res.add("schema", "error", str(path), f"cannot read: {exc.strerror}")
                continue
            sig = kb_mod.parse_signature(data, str(path), path.stem, probs)
            for raw in probs.items:
                res.add(*_split(raw))
            if sig is not None:
                sigs.append(sig)
    return sigs


def _split(raw: str) -> tuple[str, str, str, str]:
    check, where, msg = _classify(raw)
    return check, "error", where, msg


def merge(sigs: list[Signature], bundled: Path, res: CheckResult) -> list[Signature]:
    """Apply overrides (a later folder wins) and check ids and aliases are unique."""
    by_id: dict[str, Signature] = {}
    for sig in sigs:
        prev = by_id.get(sig.id)
        if prev is not None:
            prev_bundled = Path(prev.source).parent.resolve() == bundled.resolve()
            if prev_bundled:
                res.add("unique-ids", "warning", sig.source, f"overrides bundled {sig.id!r}")
            else:
                res.add(
                    "unique-ids",
                    "error",
                    sig.source,
                    f"id {sig.id!r} is also defined in {prev.source}",
                )
        by_id[sig.id] = sig
    names: dict[str, str] = {}
    for sig in by_id.values():
        low = sig.id.lower()
        if low in names and names[low] != sig.id:
            res.add("unique-ids", "error", sig.source, f"id {sig.id!r} clashes with {names[low]!r}")
        names[low] = sig.id
    for sig in by_id.values():
        for alias in sig.aliases:
            owner = names.get(alias.lower())
            if owner is not None:
                res.add(
                    "unique-ids",
                    "error",
                    f"{sig.source}: aliases",
                    f"alias {alias!r} is already the id or an alias of {owner!r}",
                )
            names[alias.lower()] = sig.id
    return sorted(by_id.values(), key=lambda s: s.id)


def check_static(sigs: list[Signature], tax: list[str] | None, res: CheckResult) -> None:
    """Checks that need no diagnosis run: taxonomy, regexes, literals, coverage, relations."""
    ids = {s.id for s in sigs}
    planned = set(tax or ()) - ids
    for sig in sigs:
        src = sig.source
        if tax is not None and sig.id not in tax:
            res.add("taxonomy", "error", f"{src}: id", f"{sig.id!r} is not a cause in taxonomy.md")
        for i, ev in enumerate(sig.evidence):
            key = f"{src}: evidence[{i}] ({ev.name})"
            if ev.kind == "regex":
                _check_regex(ev.pattern, f"{key}.regex", res)
            elif ev.kind == "fact" and ev.fact is not None and ev.fact.op in ("~", "!~"):
                _check_regex(ev.fact.value, f"{key}.fact", res)
            elif ev.kind == "text" and not ev.pattern.isascii():
                ascii_part = re.sub(r"[^A-Za-z0-9]", "", ev.pattern)
                if len(ascii_part) < MIN_LITERAL:
                    res.add(
                        "literal-length",
                        "error",
                        f"{key}.text",
                        "a literal that is mostly non-ASCII also matches any run of '?' "
                        "(how ASCII pipes show those letters); use `regex` instead",
                    )
            elif ev.kind == "text" and len(re.sub(r"\s+", "", ev.pattern)) < MIN_LITERAL:
                res.add(
                    "literal-length",
                    "warning",
                    f"{key}.text",
                    f"literal {ev.pattern!r} is short and may match unrelated text",
                )
        pos = sum(1 for e in sig.examples if e.expect == "match")
        neg = len(sig.examples) - pos
        if sig.status == Status.STABLE and (pos < 2 or neg < 1):
            res.add(
                "example-coverage",
                "error",
                f"{src}: example",
                f"a stable signature needs >= 2 match and >= 1 no-match examples "
                f"(has {pos} and {neg})",
            )
        elif not sig.examples:
            res.add("example-coverage", "warning", f"{src}: example", "has no examples")
        for key, targets in (
            ("consequence_of", sig.consequence_of),
            ("co_occurs_with", sig.co_occurs_with),
        ):
            for target in targets:
                if target == sig.id:
                    res.add("relations", "error", f"{src}: relations.{key}", "names itself")
                elif target in planned:
                    res.add(
                        "relations",
                        "warning",
                        f"{src}: relations.{key}",
                        f"{target!r} is a taxonomy cause without a signature yet",
                    )
                elif target not in ids:
                    res.add(
                        "relations",
                        "error",
                        f"{src}: relations.{key}",
                        f"{target!r} is not a known signature id",
                    )
        for i, rem in enumerate(sig.remedies):
            if rem.risk != Risk.SAFE and not rem.cost.strip():
                res.add(
                    "remedy-cost",
                    "error",
                    f"{src}: remedy[{i}].cost",
                    f"risk {rem.risk.value!r} needs a cost",
                )
            if rem.command.strip() and not rem.verify.strip():
                res.add(
                    "remedy-verify",
                    "warning",
                    f"{src}: remedy[{i}].verify",
                    "no command to verify the remedy worked",
                )


def _check_regex(pattern: str, where: str, res: CheckResult) -> None:
    if len(pattern) > kb_mod.MAX_REGEX_CHARS:
        res.add("regex-safety", "error", where, f"longer than {kb_mod.MAX_REGEX_CHARS} characters")
        return
    try:
        rx = kb_mod.compile_regex(pattern)
    except Exception as exc:  # re2.error has no stable public type
        res.add("regex-safety", "error", where, f"does not compile under RE2: {exc}")
        return
    size = int(rx.programsize)
    if size > MAX_PROGRAM_SIZE:
        res.add(
            "regex-safety",
            "error",
            where,
            f"RE2 program size {size} exceeds {MAX_PROGRAM_SIZE}; use + instead of big {{m,n}}",
        )
    if rx.search("") is not None:
        res.add("regex-safety", "error", where, "matches the empty string, so it matches any log")


def check_examples(kb: KnowledgeBase, res: CheckResult) -> None:
    """Every inline example must behave, and no other signature may outrank its own."""
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.api import diagnose_text
    from psgdiag.kb.cases import diagnosed_ids

    for sig in kb.signatures:
        for i, ex in enumerate(sig.examples):
            where = f"{sig.source}: example[{i}]"
            report = diagnose_text(ex.text, kb=kb, source=where)
            found = diagnosed_ids(report)
            if ex.expect == "no-match":
                if sig.id in found:
                    res.add("examples", "error", where, "no-match example is diagnosed")
                continue
            if sig.id not in found:
                why = next((w.reason for w in report.runners_up if w.cause == sig.id), "no hit")
                res.add("examples", "error", where, f"match example is not diagnosed ({why})")
                continue
            top = report.diagnoses[0]
            if top.signature.id != sig.id and sig.id not in top.consequences:
                res.add(
                    "outranks",
                    "error",
                    where,
                    f"{top.signature.id!r} outranks {sig.id!r} on its own example",
                )


def check(dirs: list[Path], cases: Path | None) -> CheckResult:
    """Run every check over the bundled signatures plus `dirs`, and the cases when given."""
    res = CheckResult()
    bundled = kb_mod.bundled_dir()
    sigs = merge(load_each([bundled, *dirs], res), bundled, res)
    tax_file = taxonomy_path()
    tax = taxonomy_ids(tax_file) if tax_file is not None else None
    res.taxonomy = str(tax_file) if tax_file is not None else ""
    check_static(sigs, tax, res)
    if tax is not None:
        have = {s.id for s in sigs}
        for cause in tax:
            if cause not in have:
                res.add("taxonomy", "warning", str(tax_file), f"cause {cause!r} has no signature")
    kb = KnowledgeBase(signatures=tuple(sigs), version="check", sources=tuple(map(str, dirs)))
    res.signatures = len(sigs)
    try:
        res.kb_version = kb_mod.load(dirs, use_cache=False).version
    except KbError:
        res.kb_version = "invalid"
    check_examples(kb, res)
    if cases is not None:
        # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
        from psgdiag.kb.cases import run_cases

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
        # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
        from psgdiag.kb.report import render_rich

        render_rich(res, out)
    return res.ok
