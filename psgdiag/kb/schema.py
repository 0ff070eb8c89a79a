"""Signature schema: validate one parsed TOML signature; each problem a record with its key path.

The schema is strict: every table rejects keys it does not define (a misspelt `hnit` would
otherwise make a hint vanish silently), naming the nearest valid key. One bad field gives one
problem: an evidence entry with a bad strength still counts as named, so `[match]` does not
also report its name as unknown. What belongs to each table is data here (`TABLE_KEYS`), shared
with the published JSON schema (psgdiag/schemas/signature.schema.json, checked by a test).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

from psgdiag import regexcode
from psgdiag.kb.problems import Problems
from psgdiag.kb.regex import regex_problem
from psgdiag.model import (
    Evidence,
    EvidenceKind,
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

MATCHER_KEYS = tuple(kind.value for kind in EvidenceKind)
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
#: The keys each table may hold ("" is the top level).
TABLE_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
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
    ),
    "evidence": frozenset(
        {
            "name",
            "strength",
            "fuzzy",
            "locale",
            "stream",
            "note",
            "slots",
            "describe",
            *MATCHER_KEYS,
        }
    ),
    "match": frozenset({"requires_any", "requires_all", "excludes"}),
    "relations": frozenset({"consequence_of", "co_occurs_with"}),
    "explain": frozenset({"summary", "why", "note", "hint", "settle", "false_positives"}),
    "remedy": frozenset({"title", "command", "scope", "risk", "admin", "verify", "cost"}),
    "example": frozenset({"expect", "text"}),
}
TOP_KEYS = TABLE_KEYS[""]
EVIDENCE_KEYS = TABLE_KEYS["evidence"]
STREAMS = ("error", "warning", "verbose", "debug", "prompt")
FACT_OPS = ("==", "!=", "<=", ">=", "<", ">", "!~", "~")
MAX_FILE_BYTES = 256 * 1024
ID_RX = regexcode.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NAME_RX = regexcode.compile(r"^[a-z][a-z0-9_]*$")


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


def unknown_keys(table: dict[str, Any], kind: str, path: str, probs: Problems) -> None:
    """Report every key of `table` that its kind does not define, with the nearest valid one."""
    allowed = TABLE_KEYS[kind]
    for key in table:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, sorted(allowed - table.keys()), n=1, cutoff=0.6)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        probs.suggested.update(_join(path, c) for c in close)
        probs.add(f"{path}.{key}" if path else key, f"unknown key `{key}`{hint}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _absent(data: dict[str, Any], key: str, path: str, probs: Problems) -> bool:
    """True when a required key is absent (reported, unless it was named for a misspelt key)."""
    if key in data:
        return False
    if _join(path, key) not in probs.suggested:  # else already reported as misspelt
        probs.add(path, f"missing required key `{key}`")
    return True


def _req(data: dict[str, Any], key: str, typ: type, path: str, probs: Problems) -> Any:
    if _absent(data, key, path, probs):
        return None
    val = data[key]
    if not isinstance(val, typ) or (typ is int and isinstance(val, bool)):
        probs.add(_join(path, key), f"expected {typ.__name__}, got {type(val).__name__}")
        return None
    return val


def _opt_str(data: dict[str, Any], key: str, path: str, probs: Problems) -> str:
    val = data.get(key, "")
    if not isinstance(val, str):
        probs.add(_join(path, key), f"must be a string, not {type(val).__name__}")
        return ""
    return val


def _enum(value: Any, enum_t: Any, path: str, probs: Problems) -> Any:
    try:
        return enum_t(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum_t)
        probs.add(path, f"{value!r} is not one of: {allowed}")
        return None


def _req_enum(data: dict[str, Any], key: str, enum_t: Any, path: str, probs: Problems) -> Any:
    if _absent(data, key, path, probs):
        return None
    return _enum(data[key], enum_t, _join(path, key), probs)


def _table(value: Any, path: str, probs: Problems) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    probs.add(path, "must be a table")
    return None


def _tables(data: dict[str, Any], key: str, probs: Problems) -> list[tuple[str, dict[str, Any]]]:
    """The entries of an array of tables, each with its path; a non-table entry is reported."""
    raw = data.get(key, [])
    if not isinstance(raw, list):
        probs.add(key, f"must be an array of tables ([[{key}]])")
        return []
    out = []
    for i, item in enumerate(raw):
        table = _table(item, f"{key}[{i}]", probs)
        if table is not None:
            out.append((f"{key}[{i}]", table))
    return out


def _statuses(value: Any, path: str, probs: Problems) -> tuple[int, ...]:
    codes = value if isinstance(value, list) else [value]
    out: list[int] = []
    for c in codes:
        if isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599:
            out.append(c)
        elif isinstance(c, str) and re.fullmatch(r"[1-5]xx", c):
            base = int(c[0]) * 100
            out.extend(range(base, base + 100))
        else:
            probs.add(path, f"{c!r} is not a status code or 'Nxx'")
    return tuple(out)


def _evidence(item: dict[str, Any], path: str, probs: Problems) -> Evidence | None:
    unknown_keys(item, "evidence", path, probs)
    before = len(probs.items)
    name = _req(item, "name", str, path, probs)
    if name is not None and not _NAME_RX.match(name):
        probs.add(f"{path}.name", f"{name!r} must be snake_case")
    strength = _req_enum(item, "strength", Strength, path, probs)
    kinds = [k for k in MATCHER_KEYS if k in item]
    if len(kinds) != 1:
        probs.add(path, f"needs exactly one matcher key of {', '.join(MATCHER_KEYS)}")
        return None
    kind = EvidenceKind(kinds[0])
    value = item[kind.value]
    where = f"{path}.{kind.value}"
    pattern, fact = "", None
    statuses: tuple[int, ...] = ()
    if kind == EvidenceKind.HTTP_STATUS:
        statuses = _statuses(value, where, probs)
    elif kind == EvidenceKind.INCIDENT:
        if value is not True:
            probs.add(where, "must be true")
    elif not isinstance(value, str) or not value.strip():
        probs.add(where, "must be a non-empty string")
    else:
        pattern = value
    if pattern and kind == EvidenceKind.REGEX:
        why = regex_problem(pattern)
        if why:
            probs.add(where, why, check="regex-safety")
    if pattern and kind == EvidenceKind.FACT:
        try:
            fact = parse_fact(pattern)
        except ValueError as exc:
            probs.add(where, str(exc))
    fuzzy = item.get("fuzzy", 0)
    if type(fuzzy) is not int or not (fuzzy == 0 or 70 <= fuzzy <= 100):
        probs.add(f"{path}.fuzzy", "must be an integer between 70 and 100")
        fuzzy = 0
    elif fuzzy and kind != EvidenceKind.TEXT:
        probs.add(f"{path}.fuzzy", "only applies to `text` evidence")
    slots = _slots(item, kind, path, probs)
    stream = _opt_str(item, "stream", path, probs)
    if stream and stream not in STREAMS:
        probs.add(f"{path}.stream", f"{stream!r} is not one of: {', '.join(STREAMS)}")
    locale = _opt_str(item, "locale", path, probs)
    describe = _opt_str(item, "describe", path, probs)
    _opt_str(item, "note", path, probs)
    if len(probs.items) > before or name is None or strength is None:
        return None
    return Evidence(
        name=name,
        strength=strength,
        kind=kind,
        pattern=pattern,
        fuzzy=fuzzy,
        locale=locale,
        stream=stream,
        statuses=statuses,
        fact=fact,
        needle=text_needle(pattern) if kind == EvidenceKind.TEXT else "",
        slots=slots,
        describe=describe,
    )


def _slots(item: dict[str, Any], kind: EvidenceKind, path: str, probs: Problems) -> Any:
    """A message evidence's slot conditions: {slot = "value"} or {slot = "~regex"}."""
    raw = item.get("slots")
    if raw is None:
        return ()
    if kind != EvidenceKind.MESSAGE:
        probs.add(f"{path}.slots", "only applies to `message` evidence")
        return ()
    if not isinstance(raw, dict) or not all(isinstance(v, str) and v for v in raw.values()):
        probs.add(f"{path}.slots", 'must be a table of slot = "value" (or "~regex")')
        return ()
    for name, value in raw.items():
        if value.startswith("~"):
            why = regex_problem(value[1:])
            if why:
                probs.add(f"{path}.slots.{name}", why, check="regex-safety")
    return tuple(sorted(raw.items()))


def _remedy(item: dict[str, Any], path: str, probs: Problems) -> Remedy | None:
    unknown_keys(item, "remedy", path, probs)
    before = len(probs.items)
    title = _req(item, "title", str, path, probs)
    scope = _enum(item.get("scope", "none"), Scope, f"{path}.scope", probs)
    risk = _req_enum(item, "risk", Risk, path, probs)
    admin = item.get("admin", False)
    if not isinstance(admin, bool):
        probs.add(f"{path}.admin", "must be true or false")
    command = _opt_str(item, "command", path, probs)
    verify = _opt_str(item, "verify", path, probs)
    cost = _opt_str(item, "cost", path, probs)
    if risk is not None and risk != Risk.SAFE and not cost.strip():
        probs.add(f"{path}.cost", f"risk {risk.value!r} needs a cost", check="remedy-cost")
    if len(probs.items) > before:
        return None
    return Remedy(title, command, scope, risk, bool(admin), verify, cost)


def _str_list(data: dict[str, Any], key: str, path: str, probs: Problems) -> tuple[str, ...]:
    val = data.get(key, [])
    if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
        probs.add(_join(path, key), "must be a list of strings")
        return ()
    return tuple(val)


def _date(data: dict[str, Any], key: str, probs: Problems) -> dt.date | None:
    value = data.get(key)
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    probs.add(key, "must be a TOML date (YYYY-MM-DD)")
    return None


def _explain(data: dict[str, Any], probs: Problems) -> Explain | None:
    if "explain" not in data:
        probs.add("explain", "missing [explain] table")
        return None
    ex = _table(data["explain"], "explain", probs)
    if ex is None:
        return None
    unknown_keys(ex, "explain", "explain", probs)
    summary = _req(ex, "summary", str, "explain", probs)
    why, note, hint, settle = (
        _opt_str(ex, k, "explain", probs) for k in ("why", "note", "hint", "settle")
    )
    fps = _str_list(ex, "false_positives", "explain", probs)
    return None if summary is None else Explain(summary, why.strip(), note, hint, settle, fps)


def _examples(data: dict[str, Any], probs: Problems) -> tuple[Example, ...]:
    out = []
    for path, item in _tables(data, "example", probs):
        unknown_keys(item, "example", path, probs)
        if _absent(item, "expect", path, probs) or _absent(item, "text", path, probs):
            continue
        if item.get("expect") not in ("match", "no-match"):
            probs.add(f"{path}.expect", "must be 'match' or 'no-match'")
        elif not isinstance(item.get("text"), str):
            probs.add(f"{path}.text", "must be a string")
        else:
            out.append(Example(item["expect"], item["text"]))
    return tuple(out)


def parse_signature(data: dict[str, Any], stem: str, probs: Problems) -> Signature | None:
    """Validate one parsed TOML document; add every problem to `probs` (None when any)."""
    before = len(probs.items)
    unknown_keys(data, "", "", probs)
    sig_id = _req(data, "id", str, "", probs)
    if sig_id is not None and not ID_RX.match(sig_id):
        probs.add("id", f"{sig_id!r} must be kebab-case")
    elif sig_id is not None and sig_id != stem:
        probs.add("id", f"{sig_id!r} must equal the file name {stem!r}")
    title = _req(data, "title", str, "", probs)
    status = _req_enum(data, "status", Status, "", probs)
    category = _req(data, "category", str, "", probs)
    if category is not None and category not in CATEGORIES:
        probs.add("category", f"{category!r} is not one of {', '.join(sorted(CATEGORIES))}")
    fault = _req_enum(data, "fault", Fault, "", probs)
    transient = _req(data, "transient", bool, "", probs)
    entries = _tables(data, "evidence", probs)
    if not entries and "evidence" not in data:
        probs.add("evidence", "needs at least one [[evidence]] entry")
    evidence = [ev for path, item in entries if (ev := _evidence(item, path, probs)) is not None]
    # Names of every entry, valid or not: a bad entry is reported once, not again by [match].
    names = [str(item["name"]) for _path, item in entries if isinstance(item.get("name"), str)]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        probs.add("evidence", f"name {dup!r} is used twice")
    match = _table(data.get("match", {}), "match", probs) or {}
    unknown_keys(match, "match", "match", probs)
    lists = {k: _str_list(match, k, "match", probs) for k in sorted(TABLE_KEYS["match"])}
    misspelt = {"match.requires_any", "match.requires_all"} & probs.suggested
    if not lists["requires_any"] and not lists["requires_all"] and not misspelt:
        probs.add("match", "needs requires_any or requires_all")
    for key, listed in lists.items():
        for n in listed:
            if n not in names:
                probs.add(f"match.{key}", f"{n!r} is not an evidence name")
    rel = _table(data.get("relations", {}), "relations", probs) or {}
    unknown_keys(rel, "relations", "relations", probs)
    explain = _explain(data, probs)
    remedies = [
        r for path, item in _tables(data, "remedy", probs) if (r := _remedy(item, path, probs))
    ]
    if not data.get("remedy"):
        probs.add("remedy", "needs at least one [[remedy]]")
    examples = _examples(data, probs)
    refs = _str_list(data, "references", "", probs)
    aliases = _str_list(data, "aliases", "", probs)
    consequence_of = _str_list(rel, "consequence_of", "relations", probs)
    co_occurs_with = _str_list(rel, "co_occurs_with", "relations", probs)
    valid_from, valid_until = _date(data, "valid_from", probs), _date(data, "valid_until", probs)
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
        requires_any=lists["requires_any"],
        requires_all=lists["requires_all"],
        excludes=lists["excludes"],
        consequence_of=consequence_of,
        co_occurs_with=co_occurs_with,
        explain=explain,
        remedies=tuple(remedies),
        examples=examples,
        source=probs.file,
        aliases=aliases,
        valid_from=valid_from,
        valid_until=valid_until,
    )
