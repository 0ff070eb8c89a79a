"""Generate N synthetic signatures from the bundled ones (same shape, different words).

    python benchmarks/gen_sigs.py /tmp/sigs-1000 --count 1000

Each copy keeps its file's structure (evidence kinds, regex syntax, tables) but gets a new id and
has every long word of its strings replaced by a pseudo-word, so it costs what a real signature
costs to load and match but matches nothing real.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import tomllib
from pathlib import Path
from typing import Any

from psgdiag.kb.load import bundled_dir

# Words of 4+ letters, also right after a regex escape (\bmodule), but not regex group names
# ((?P<name>...)) or placeholders ({name}).
_WORD = re.compile(r"(?:(?<=\\[bBdDsSwW])|(?<![\\A-Za-z<{]))[A-Za-z]{4,}(?![A-Za-z>}])")


def pseudo(rng: random.Random, word: str) -> str:
    """Return a random word of the same length and case shape."""
    letters = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in word)
    return letters.capitalize() if word[0].isupper() else letters


KEEP = frozenset(
    [
        "id",
        "status",
        "category",
        "fault",
        "strength",
        "scope",
        "risk",
        "name",
        "expect",
        "requires_any",
        "requires_all",
        "excludes",
        "consequence_of",
        "co_occurs_with",
        "fact",
        "locale",
        "stream",
        "http_status",
    ]
)


def _scramble(value: Any, rng: random.Random, key: str) -> Any:
    if isinstance(value, str) and key not in KEEP:
        return _WORD.sub(lambda m: pseudo(rng, m.group(0)), value)
    if isinstance(value, list):
        return [_scramble(v, rng, key) for v in value]
    if isinstance(value, dict):
        return {k: _scramble(v, rng, k) for k, v in value.items()}
    return value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table (a message evidence's slots)
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def dump(data: dict[str, Any]) -> str:
    """Write the TOML subset signatures use (scalars, tables, arrays of tables)."""
    out = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict | list)]
    out += [
        f"{k} = {_toml_value(v)}"
        for k, v in data.items()
        if isinstance(v, list) and not (v and isinstance(v[0], dict))
    ]
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(f"\n[{key}]")
            out += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                out.append(f"\n[[{key}]]")
                out += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(out) + "\n"


def mutate(text: str, rng: random.Random, new_id: str) -> str:
    """Rename the signature and scramble the words of its strings, keeping keys and syntax."""
    data = _scramble(tomllib.loads(text), rng, "")
    data["id"] = new_id
    for ev in data.get("evidence", []):
        if "message" in ev:
            # A catalog id must exist, and a real one would match real logs: an error id of
            # pseudo-words costs a signature what a message lookup costs and matches nothing.
            ev["fqid"] = ev.pop("message").replace(".", "").replace("@", "")
            ev.pop("slots", None)
    return dump(data)


def generate(out_dir: Path, count: int, seed: int = 7) -> int:
    """Write `count` synthetic signature files; return how many were written."""
    rng = random.Random(seed)
    sources = sorted(bundled_dir().glob("*.toml"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.toml"):
        old.unlink()
    for i in range(count):
        src = sources[i % len(sources)]
        new_id = f"synthetic-{i:04d}-{src.stem}"
        text = mutate(src.read_text("utf-8"), rng, new_id)
        (out_dir / f"{new_id}.toml").write_text(text, "utf-8")
    return count


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    generate(args.out, args.count)


if __name__ == "__main__":
    main()
