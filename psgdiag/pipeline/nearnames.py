"""Two module names in one log that differ by a letter or two: the name asked for was mistyped.

"Install-Module ExchangeOnlineManagment" fails, and the listing the user ran next shows
"ExchangeOnlineManagement": whatever language the console printed the failure in, the names
themselves say it was a typo. The derived fact `module_near_name` holds "asked ~ listed".
"""

from __future__ import annotations

from collections.abc import Sequence

from psgdiag.model import FactValue

MIN_LENGTH = 8  # shorter names are too alike by chance (Az.Aks / Az.App, Pester / Maester)
MAX_EDITS = 2  # for names of LONG_NAME characters or more; one edit below that
LONG_NAME = 12


def near_name(modules: Sequence[FactValue]) -> FactValue | None:
    """The first pair of module names within MAX_EDITS edits of each other (not equal)."""
    for i, first in enumerate(modules):
        for second in modules[i + 1 :]:
            a, b = first.value.lower().strip(".,;:"), second.value.lower().strip(".,;:")
            shorter = min(len(a), len(b))
            allowed = MAX_EDITS if shorter >= LONG_NAME else 1
            if a == b or shorter < MIN_LENGTH or abs(len(a) - len(b)) > allowed:
                continue
            if _versions_apart(a, b):
                continue
            # Imported here: only a log naming two similar modules gets this far (start-up).
            from rapidfuzz.distance import Levenshtein

            if Levenshtein.distance(a, b, score_cutoff=allowed) <= allowed:
                return FactValue(f"{first.value} ~ {second.value}", second.line)
    return None


def _versions_apart(a: str, b: str) -> bool:
    """Names that differ only in digits are a family (Az.Storage2, xNetworking3), not a typo."""
    return "".join(c for c in a if not c.isdigit()) == "".join(c for c in b if not c.isdigit())
