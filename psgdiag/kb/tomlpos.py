"""Where each key of a TOML document is written: `key.path` -> line number (1-based).

tomllib returns values only, so a problem about `remedy[1].verify` could not say which line to
fix. This reads the text line by line: table headers (`[explain]`, `[[evidence]]` with its
running index), `key = value` lines, and skips the inside of multi-line strings. Inline tables
and arrays count as their key's line. It never raises: text it cannot follow just gives fewer
lines.
"""

from __future__ import annotations

from psgdiag import regexcode

_HEADER = regexcode.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(?:#.*)?$")
_KEY = regexcode.compile(
    r"""^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*|"[^"]*"|'[^']*')\s*="""
)
_DELIMS = ('"""', "'''")


def key_lines(text: str) -> dict[str, int]:
    """Map each key path of the document to the line it is written on."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    open_delim = ""
    for no, line in enumerate(text.splitlines(), 1):
        if open_delim:
            if line.count(open_delim) % 2 == 1:
                open_delim = ""
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group(2)
            if header.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = f"{name}[{index}]"
            else:
                table = name
            lines.setdefault(table, no)
            continue
        key = _KEY.match(line)
        if key:
            name = ".".join(part.strip().strip("\"'") for part in key.group(1).split("."))
            lines.setdefault(f"{table}.{name}" if table else name, no)
            rest = line[key.end() :]
            for delim in _DELIMS:
                if rest.count(delim) % 2 == 1:
                    open_delim = delim
                    break
    return lines
