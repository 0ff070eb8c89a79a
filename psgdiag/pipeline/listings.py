"""What a repository listing typed at the console shows: whether PSGallery is registered at all.

`Get-PSRepository` (or `Get-PSResourceRepository`) run at a prompt prints a table of the
registered repositories, or a warning when there are none. Repository names are identifiers no
translation changes, so a listing whose output does not name PSGallery says the gallery is not
registered, whatever language the warning or the table's headings are in. The derived fact
`repository_listing` is "psgallery" or "no-psgallery", at the line of the command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from psgdiag import regexcode
from psgdiag.model import FactValue, Line

OUTPUT_LINES = 30  # lines after the command read as its output, at most

# A prompt (anything up to ">": "PS C:\Users\x>", "~\Desktop>", "PS /home/x>"), the listing
# command, and nothing after it but a formatting pipe (a filter would hide repositories).
_LISTING = regexcode.compile(
    r"^(?P<prompt>.{0,160}?>)\s?Get-PS(?:Resource)?Repository\s*"
    r"(?:\|\s*(?:Format-(?:List|Table)|fl|ft)\b[^|]*)?$",
    re.IGNORECASE,
)
_PSGALLERY = regexcode.compile(r"(?<![\w-])PSGallery(?![\w-])", re.IGNORECASE)


def repository_listings(lines: Sequence[Line]) -> list[FactValue]:
    """Each repository listing with output: whether that output names PSGallery."""
    out: list[FactValue] = []
    for i, line in enumerate(lines):
        m = _LISTING.match(line.text.strip())
        if m is None:
            continue
        prompt = m.group("prompt")
        shown: list[str] = []
        for later in lines[i + 1 : i + 1 + OUTPUT_LINES]:
            if later.text.lstrip().startswith(prompt):
                break  # the next command
            if later.text.strip():
                shown.append(later.text)
        if shown:  # a paste that stops at the command says nothing
            named = any(_PSGALLERY.search(text) for text in shown)
            out.append(FactValue("psgallery" if named else "no-psgallery", line.no))
    return out
