"""Signature schema: validate one parsed TOML signature, every problem reported with file and key.

Also the checks shared by the loader, `signatures check` and `signatures new`: fact predicates
and RE2 regexes (linear time, so no signature regex can backtrack catastrophically).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from psgdiag.model import (
    Evidence,
    Example,
    Explain,
    FactTest,
    Fault,
    Remedy,
    Risk,
    Scope,
    Signature,
    Status,
    Strength,
)
from psgdiag.pipeline.textview import text_needle

MATCHER_KEYS = ("text", "regex", "fqid", "msg_key", "http_status", "exception", "fact", "incident")
CATEGORIES = frozenset(
    [
        "network",
        "tls",
        "download-integrity",
        "repository-config",
        "permissions",
        "conflicts",
        "client-version",
        "client-config",
        "service",
        "package",
        "prompt",
        "website",
    ]
)
TOP_KEYS = frozenset(
    [
        "id",
        "title",
        "status",
        "category",
        "fault",
        "transient",
        "references",
        "author",
        "created",
        "modified",
        "aliases",
        "valid_from",
        "valid_until",
        "evidence",
        "match",
        "relations",
        "explain",
        "remedy",
        "example",
    ]
)
EVIDENCE_KEYS = frozenset({"name", "strength", "fuzzy", "locale", "stream", "note", *MATCHER_KEYS})
FACT_OPS = ("==", "!=", "<=", ">=", "<", ">", "!~", "~")
MAX_FILE_BYTES = 256 * 1024
MAX_REGEX_CHARS = 4000
ID_RX = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NAME_RX = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_fact(expr: str) -> FactTest:
    """Parse a fact predicate: `psget_version < 2.2.4`, `ps_edition exists`, `every host ~ RX`."""
    text = expr.strip()
    if text.startswith("every "):
        inner = parse_fact(text[len("every ") :])
        if inner.op in ("exists", "missing") or inner.every:
            raise ValueError(f"`every` needs a comparison, not {expr!r}")
        return FactTest(inner.name, inner.op, inner.value, every=True)
    parts = text.split(None, 1)
    if len(parts) == 2 and parts[1].strip() in ("exists", "missing"):
        return FactTest(parts[0], parts[1].strip())
    for op in FACT_OPS:
        if op in text:
            name, value = text.split(op, 1)
            name = name.strip()
            if not _NAME_RX.match(name) or not value.strip():
                break
            return FactTest(name, op, value.strip())
    raise ValueError(f"cannot parse fact predicate {expr!r} (use `name op value` or `name exists`)")


def compile_regex(pattern: str | bytes) -> Any:
    """Compile a signature regex with RE2 (linear time: no catastrophic backtracking).

    A bytes pattern searches UTF-8 bytes: on large texts that avoids re-encoding the whole
    string on every search, which the RE2 binding does for str input.
    """
    return _re2_compiler()(pattern)


@lru_cache(maxsize=8192)
def cached_regex(pattern: str) -> Any:
    """compile_regex for searching UTF-8 bytes, kept for the run (signature and fact regexes)."""
    return compile_regex(pattern.encode("utf-8"))


@lru_cache(maxsize=1)
def _re2_compiler() -> Callable[[str | bytes], Any]:
    """One RE2 options object for every pattern, and the binding's pattern class when present.

    re2.compile rebuilds its Options object attribute by attribute on every call, which costs
    more than compiling a typical signature regex; constructing the pattern class directly with
    a shared Options skips that (same object, same errors: re2.error).
    """
    import re2

    opts = re2.Options()
    opts.log_errors = False
    opts.case_sensitive = False
    regexp = getattr(re2, "_Regexp", None)
    if callable(regexp):
        return lambda pattern: regexp(pattern, opts)
    return lambda pattern: re2.compile(pattern, opts)


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, msg: str) -> None:
        self.items.append(f"{where}: {msg}")


def _req(data: dict[str, Any], key: str, typ: type, where: str, probs: Problems) -> Any:
    if key not in data:
        probs.add(where, f"missing required key `{key}`")
        return None
    val = data[key]
    if not isinstance(val, typ):
        probs.add(f"{where}.{key}", f"expected {typ.__name__}, got {type(val).__name__}")
        return None
    return val


def _enum(value: Any, enum_t: Any, where: str, probs: Problems) -> Any:
    try:
        return enum_t(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum_t)
        probs.add(where, f"{value!r} is not one of: {allowed}")
        return None


def _evidence(item: Any, where: str, probs: Problems) -> Evidence | None:
    if not isinstance(item, dict):
        probs.add(where, "expected a table")
        return None
    for key in item:
        if key not in EVIDENCE_KEYS:
            probs.add(f"{where}.{key}", "unknown key")
    name = _req(item, "name", str, where, probs)
    if name is not None and not _NAME_RX.match(name):
        probs.add(f"{where}.name", f"{name!r} must be snake_case")
    strength = _enum(item.get("strength"), Strength, f"{where}.strength", probs)
    kinds = [k for k in MATCHER_KEYS if k in item]
    if len(kinds) != 1:
        probs.add(where, f"needs exactly one matcher key of {', '.join(MATCHER_KEYS)}")
        return None
    kind = kinds[0]
    value = item[kind]
    pattern, fact = "", None
    statuses: tuple[int, ...] = ()
    if kind == "http_status":
        codes = value if isinstance(value, list) else [value]
        out: list[int] = []
        for c in codes:
            if isinstance(c, int) and 100 <= c <= 599:
                out.append(c)
            elif isinstance(c, str) and re.fullmatch(r"[1-5]xx", c):
                base = int(c[0]) * 100
                out.extend(range(base, base + 100))
            else:
                probs.add(f"{where}.http_status", f"{c!r} is not a status code or 'Nxx'")
        statuses = tuple(out)
    elif kind == "incident":
        if value is not True:
            probs.add(f"{where}.incident", "must be true")
    elif not isinstance(value, str) or not value.strip():
        probs.add(f"{where}.{kind}", "must be a non-empty string")
        return None
    else:
        pattern = value
    if kind == "regex":
        if len(pattern) > MAX_REGEX_CHARS:
            probs.add(f"{where}.regex", f"longer than {MAX_REGEX_CHARS} characters")
        else:
            try:
                compile_regex(pattern)
            except Exception as exc:  # re2.error has no stable public type
                probs.add(f"{where}.regex", f"does not compile under RE2: {exc}")
    if kind == "fact":
        try:
            fact = parse_fact(pattern)
        except ValueError as exc:
            probs.add(f"{where}.fact", str(exc))
    fuzzy = item.get("fuzzy", 0)
    if not isinstance(fuzzy, int) or not (fuzzy == 0 or 70 <= fuzzy <= 100):
        probs.add(f"{where}.fuzzy", "must be an integer between 70 and 100")
        fuzzy = 0
    if fuzzy and kind != "text":
        probs.add(f"{where}.fuzzy", "only applies to `text` evidence")
    if name is None or strength is None:
        return None
    return Evidence(
        name=name,
        strength=strength,
        kind=kind,
        pattern=pattern,
        fuzzy=fuzzy,
        locale=str(item.get("locale", "")),
        stream=str(item.get("stream", "")),
        statuses=statuses,
        fact=fact,
        needle=text_needle(pattern) if kind == "text" else "",
    )


def _remedy(item: Any, where: str, probs: Problems) -> Remedy | None:
    if not isinstance(item, dict):
        probs.add(where, "expected a table")
        return None
    title = _req(item, "title", str, where, probs)
    command = item.get("command", "")
    scope = _enum(item.get("scope", "none"), Scope, f"{where}.scope", probs)
    risk = _enum(item.get("risk"), Risk, f"{where}.risk", probs)
    admin = item.get("admin", False)
    if not isinstance(admin, bool):
        probs.add(f"{where}.admin", "must be true or false")
    cost = item.get("cost", "")
    if risk is not None and risk != Risk.SAFE and not cost:
        probs.add(f"{where}.cost", f"a remedy with risk {risk.value!r} must say what it costs")
    if title is None or scope is None or risk is None:
        return None
    return Remedy(
        title=title,
        command=str(command),
        scope=scope,
        risk=risk,
        admin=bool(admin),
        verify=str(item.get("verify", "")),
        cost=str(cost),
    )


def _str_list(data: dict[str, Any], key: str, where: str, probs: Problems) -> tuple[str, ...]:
    val = data.get(key, [])
    if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
        probs.add(f"{where}.{key}", "must be a list of strings")
        return ()
    return tuple(val)


def _date(value: Any, where: str, probs: Problems) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    probs.add(where, "must be a TOML date (YYYY-MM-DD)")
    return None


def parse_signature(
    data: dict[str, Any], where: str, stem: str, probs: Problems
) -> Signature | None:
    """Validate one parsed TOML document; add every problem to `probs`."""
    before = len(probs.items)
    for key in data:
        if key not in TOP_KEYS:
            probs.add(f"{where}: {key}", "unknown key")
    sig_id = _req(data, "id", str, where, probs)
    if sig_id is not None:
        if not ID_RX.match(sig_id):
            probs.add(f"{where}: id", f"{sig_id!r} must be kebab-case")
        if sig_id != stem:
            probs.add(f"{where}: id", f"{sig_id!r} must equal the file name {stem!r}")
    title = _req(data, "title", str, where, probs)
    status = _enum(data.get("status"), Status, f"{where}: status", probs)
    category = _req(data, "category", str, where, probs)
    if category is not None and category not in CATEGORIES:
        probs.add(f"{where}: category", f"{category!r} is not one of {sorted(CATEGORIES)}")
    fault = _enum(data.get("fault"), Fault, f"{where}: fault", probs)
    transient = _req(data, "transient", bool, where, probs)
    refs = _str_list(data, "references", where, probs)
    evidence: list[Evidence] = []
    raw_ev = data.get("evidence", [])
    if not isinstance(raw_ev, list) or not raw_ev:
        probs.add(f"{where}: evidence", "needs at least one [[evidence]] entry")
        raw_ev = []
    for i, item in enumerate(raw_ev):
        ev = _evidence(item, f"{where}: evidence[{i}]", probs)
        if ev is not None:
            evidence.append(ev)
    names = [e.name for e in evidence]
    for n in {n for n in names if names.count(n) > 1}:
        probs.add(f"{where}: evidence", f"name {n!r} is used twice")
    match = data.get("match", {})
    if not isinstance(match, dict):
        probs.add(f"{where}: match", "must be a table")
        match = {}
    req_any = _str_list(match, "requires_any", f"{where}: match", probs)
    req_all = _str_list(match, "requires_all", f"{where}: match", probs)
    excludes = _str_list(match, "excludes", f"{where}: match", probs)
    if not req_any and not req_all:
        probs.add(f"{where}: match", "needs requires_any or requires_all")
    for key, listed in (
        ("requires_any", req_any),
        ("requires_all", req_all),
        ("excludes", excludes),
    ):
        for n in listed:
            if n not in names:
                probs.add(f"{where}: match.{key}", f"{n!r} is not an evidence name")
    rel = data.get("relations", {})
    rel = rel if isinstance(rel, dict) else {}
    ex = data.get("explain")
    explain = None
    if not isinstance(ex, dict):
        probs.add(f"{where}: explain", "missing [explain] table")
    else:
        summary = _req(ex, "summary", str, f"{where}: explain", probs)
        if summary is not None:
            explain = Explain(
                summary=summary,
                why=str(ex.get("why", "")).strip(),
                note=str(ex.get("note", "")),
                hint=str(ex.get("hint", "")),
                settle=str(ex.get("settle", "")),
                false_positives=_str_list(ex, "false_positives", f"{where}: explain", probs),
            )
    remedies = []
    for i, item in enumerate(data.get("remedy", []) or []):
        r = _remedy(item, f"{where}: remedy[{i}]", probs)
        if r is not None:
            remedies.append(r)
    if not data.get("remedy"):
        probs.add(f"{where}: remedy", "needs at least one [[remedy]]")
    examples = []
    for i, item in enumerate(data.get("example", []) or []):
        if not isinstance(item, dict) or item.get("expect") not in ("match", "no-match"):
            probs.add(f"{where}: example[{i}].expect", "must be 'match' or 'no-match'")
            continue
        if not isinstance(item.get("text"), str):
            probs.add(f"{where}: example[{i}].text", "must be a string")
            continue
        examples.append(Example(item["expect"], item["text"]))
    if len(probs.items) > before:
        return None
    assert sig_id and title and status and category and fault and explain is not None
    return Signature(
        id=sig_id,
        title=title,
        status=status,
        category=category,
        fault=fault,
        transient=bool(transient),
        references=refs,
        evidence=tuple(evidence),
        requires_any=req_any,
        requires_all=req_all,
        excludes=excludes,
        consequence_of=_str_list(rel, "consequence_of", f"{where}: relations", probs),
        co_occurs_with=_str_list(rel, "co_occurs_with", f"{where}: relations", probs),
        explain=explain,
        remedies=tuple(remedies),
        examples=tuple(examples),
        source=where,
        aliases=_str_list(data, "aliases", where, probs),
        valid_from=_date(data.get("valid_from"), f"{where}: valid_from", probs),
        valid_until=_date(data.get("valid_until"), f"{where}: valid_until", probs),
    )
