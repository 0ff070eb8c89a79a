"""The lint checks of `psgdiag signatures check`, one registered function each.

A check takes the loaded signatures (and, for the ones that diagnose, the knowledge base) and
yields Problem records. `@check(name)` registers it under the name shown in the output, the way
pySigma registers its validators; `signatures check` runs every registered check once. What the
schema already rejects while loading (unknown keys, types, regexes RE2 cannot compile, risky
remedies without a cost) is not checked again here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from psgdiag.api import diagnose_text
from psgdiag.kb.cases import diagnosed_ids
from psgdiag.kb.problems import Problem
from psgdiag.kb.regex import MAX_PROGRAM_SIZE, compile_regex
from psgdiag.model import EvidenceKind, KnowledgeBase, Signature, Status
from psgdiag.record import field, record

MIN_LITERAL = 12  # compact characters; shorter literals match unrelated text


@record
class CheckInput:
    """What the checks look at."""

    signatures: tuple[Signature, ...]
    bundled: Path
    taxonomy: tuple[str, ...] | None = None  # cause ids of taxonomy.md, None when not found
    taxonomy_file: str = ""
    kb: KnowledgeBase | None = None  # for the checks that diagnose examples
    overrides: tuple[tuple[Signature, Signature], ...] = field(default_factory=tuple)


CheckFn = Callable[[CheckInput], Iterable[Problem]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under `name`."""

    def register(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = fn
        return fn

    return register


def _problem(sig: Signature, key: str, message: str, name: str, severity: str) -> Problem:
    return Problem(sig.source, key, message, name, severity)


@check("unique-ids")
def unique_ids(inp: CheckInput) -> Iterator[Problem]:
    """Overrides of bundled ids (a warning), ids defined twice, ids and aliases that clash."""
    for old, new in inp.overrides:
        if Path(old.source).parent.resolve() == inp.bundled.resolve():
            yield _problem(new, "", f"overrides bundled {new.id!r}", "unique-ids", "warning")
        else:
            msg = f"id {new.id!r} is also defined in {old.source}"
            yield _problem(new, "", msg, "unique-ids", "error")
    names: dict[str, str] = {}
    for sig in inp.signatures:
        low = sig.id.lower()
        if low in names and names[low] != sig.id:
            msg = f"id {sig.id!r} clashes with {names[low]!r}"
            yield _problem(sig, "id", msg, "unique-ids", "error")
        names[low] = sig.id
    for sig in inp.signatures:
        for alias in sig.aliases:
            owner = names.get(alias.lower())
            if owner is not None:
                msg = f"alias {alias!r} is already the id or an alias of {owner!r}"
                yield _problem(sig, "aliases", msg, "unique-ids", "error")
            names[alias.lower()] = sig.id


@check("taxonomy")
def taxonomy(inp: CheckInput) -> Iterator[Problem]:
    """Every signature id is a cause of taxonomy.md; every cause has a signature (a warning)."""
    if inp.taxonomy is None:
        return
    have = {s.id for s in inp.signatures}
    for sig in inp.signatures:
        if sig.id not in inp.taxonomy:
            yield _problem(
                sig, "id", f"{sig.id!r} is not a cause in taxonomy.md", "taxonomy", "error"
            )
    for cause in inp.taxonomy:
        if cause not in have:
            msg = f"cause {cause!r} has no signature"
            yield Problem(inp.taxonomy_file, "", msg, "taxonomy", "warning")


def _regexes(sig: Signature) -> Iterator[tuple[str, str]]:
    for i, ev in enumerate(sig.evidence):
        if ev.kind == EvidenceKind.REGEX:
            yield f"evidence[{i}].regex", ev.pattern
        elif ev.kind == EvidenceKind.FACT and ev.fact is not None and ev.fact.op in ("~", "!~"):
            yield f"evidence[{i}].fact", ev.fact.value


@check("regex-safety")
def regex_safety(inp: CheckInput) -> Iterator[Problem]:
    """RE2 program size within bounds, and no regex that matches the empty string."""
    for sig in inp.signatures:
        for key, pattern in _regexes(sig):
            try:
                rx = compile_regex(pattern)
            except Exception as exc:  # a fact regex is not compiled by the schema
                yield _problem(
                    sig, key, f"does not compile under RE2: {exc}", "regex-safety", "error"
                )
                continue
            size = int(rx.programsize)
            if size > MAX_PROGRAM_SIZE:
                msg = f"RE2 program size {size} exceeds {MAX_PROGRAM_SIZE}; "
                msg += "use + instead of big {m,n}"
                yield _problem(sig, key, msg, "regex-safety", "error")
            if rx.search("") is not None:
                msg = "matches the empty string, so it matches any log"
                yield _problem(sig, key, msg, "regex-safety", "error")


@check("literal-length")
def literal_length(inp: CheckInput) -> Iterator[Problem]:
    """Text literals long enough not to match unrelated text."""
    for sig in inp.signatures:
        for i, ev in enumerate(sig.evidence):
            if ev.kind != EvidenceKind.TEXT:
                continue
            key = f"evidence[{i}].text"
            if not ev.pattern.isascii():
                if len(re.sub(r"[^A-Za-z0-9]", "", ev.pattern)) < MIN_LITERAL:
                    msg = (
                        "a literal that is mostly non-ASCII also matches any run of '?' "
                        "(how ASCII pipes show those letters); use `regex` instead"
                    )
                    yield _problem(sig, key, msg, "literal-length", "error")
            elif len(re.sub(r"\s+", "", ev.pattern)) < MIN_LITERAL:
                msg = f"literal {ev.pattern!r} is short and may match unrelated text"
                yield _problem(sig, key, msg, "literal-length", "warning")


@check("example-coverage")
def example_coverage(inp: CheckInput) -> Iterator[Problem]:
    """A stable signature has at least two match and one no-match examples."""
    for sig in inp.signatures:
        pos = sum(1 for e in sig.examples if e.expect == "match")
        neg = len(sig.examples) - pos
        if sig.status == Status.STABLE and (pos < 2 or neg < 1):
            msg = (
                "a stable signature needs >= 2 match and >= 1 no-match examples "
                f"(has {pos} and {neg})"
            )
            yield _problem(sig, "example", msg, "example-coverage", "error")
        elif not sig.examples:
            yield _problem(sig, "example", "has no examples", "example-coverage", "warning")


@check("relations")
def relations(inp: CheckInput) -> Iterator[Problem]:
    """Relations name other, existing causes."""
    ids = {s.id for s in inp.signatures}
    planned = set(inp.taxonomy or ()) - ids
    for sig in inp.signatures:
        for key, targets in (
            ("consequence_of", sig.consequence_of),
            ("co_occurs_with", sig.co_occurs_with),
        ):
            where = f"relations.{key}"
            for target in targets:
                if target == sig.id:
                    yield _problem(sig, where, "names itself", "relations", "error")
                elif target in planned:
                    msg = f"{target!r} is a taxonomy cause without a signature yet"
                    yield _problem(sig, where, msg, "relations", "warning")
                elif target not in ids:
                    msg = f"{target!r} is not a known signature id"
                    yield _problem(sig, where, msg, "relations", "error")


@check("remedy-verify")
def remedy_verify(inp: CheckInput) -> Iterator[Problem]:
    """A remedy with a command says how to verify it worked."""
    for sig in inp.signatures:
        for i, rem in enumerate(sig.remedies):
            if rem.command.strip() and not rem.verify.strip():
                msg = "no command to verify the remedy worked"
                yield _problem(sig, f"remedy[{i}].verify", msg, "remedy-verify", "warning")


@check("examples")
def examples(inp: CheckInput) -> Iterator[Problem]:
    """Every inline example behaves, and no other signature outranks its own example."""
    if inp.kb is None:
        return
    for sig in inp.kb.signatures:
        for i, ex in enumerate(sig.examples):
            key = f"example[{i}]"
            report = diagnose_text(ex.text, kb=inp.kb, source=f"{sig.source}: {key}")
            found = diagnosed_ids(report)
            if ex.expect == "no-match":
                if sig.id in found:
                    yield _problem(sig, key, "no-match example is diagnosed", "examples", "error")
                continue
            if sig.id not in found:
                why = next((w.reason for w in report.runners_up if w.cause == sig.id), "no hit")
                msg = f"match example is not diagnosed ({why})"
                yield _problem(sig, key, msg, "examples", "error")
                continue
            top = report.diagnoses[0]
            if top.signature.id != sig.id and sig.id not in top.consequences:
                msg = f"{top.signature.id!r} outranks {sig.id!r} on its own example"
                yield _problem(sig, key, msg, "outranks", "error")


@check("describe")
def describe_words(inp: CheckInput) -> Iterator[Problem]:
    """Evidence that can establish or rule out a cause has words for the why-not line.

    Message, text, error id, exception and status evidence have words of their own; regex and
    fact evidence need a `describe` field.
    """
    for sig in inp.signatures:
        keys = {*sig.requires_any, *sig.requires_all, *sig.excludes}
        for i, ev in enumerate(sig.evidence):
            worded = ev.describe or ev.kind not in (EvidenceKind.REGEX, EvidenceKind.FACT)
            if ev.name in keys and not worded:
                msg = "no `describe`: a considered-but-rejected line cannot say what it needs"
                yield _problem(sig, f"evidence[{i}].describe", msg, "describe", "warning")
