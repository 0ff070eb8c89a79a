"""Problems found in a knowledge-base file: records with file, key path, line, check and severity.

Every part of psgdiag that validates a signature (the loader, `signatures check`, `signatures new`)
reports problems as these records; they are rendered in one location format,
`file:LINE: key.path: message` (`file: key.path: message` when the line is unknown).
"""

from __future__ import annotations

from psgdiag.record import record


@record
class Problem:
    """One finding about one file (and one key in it, when it is about a key)."""

    file: str
    key: str
    message: str
    check: str = "schema"
    severity: str = "error"  # error | warning
    line: int = 0

    @property
    def where(self) -> str:
        """The location: `file:LINE: key`, `file: key`, or the file alone."""
        head = f"{self.file}:{self.line}" if self.line else self.file
        return f"{head}: {self.key}" if self.key else head

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Problems:
    """Collects the problems of one file while it is validated."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []
        # key paths named as "did you mean" for a misspelt key: their absence is not reported too
        self.suggested: set[str] = set()

    def add(self, key: str, message: str, check: str = "schema", severity: str = "error") -> None:
        """Record one problem about `key` (a dotted path such as `evidence[2].regex`, or "")."""
        self.items.append(Problem(self.file, key, message, check, severity))

    def __bool__(self) -> bool:
        return bool(self.items)


def with_lines(problems: list[Problem], lines: dict[str, int]) -> list[Problem]:
    """Give each problem the TOML line of its key path (or of the nearest enclosing table)."""
    out = []
    for p in problems:
        path = p.key
        line = 0
        while path:
            line = lines.get(path, 0)
            if line:
                break
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        out.append(p if not line else Problem(p.file, p.key, p.message, p.check, p.severity, line))
    return out
