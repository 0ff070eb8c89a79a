"""The anchors of the big-file scan: literal patterns that mark candidate regions of a huge log.

Specific anchors come from the knowledge base (psgdiag.kb.prefilter: words every match of some
evidence contains); general ones are what every error record, HTTP failure or warning carries,
whatever the cause, plus the fact extractors' distinctive tokens and the localised warning
prefixes. Compiled with RE2 once per set of patterns.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from psgdiag.kb.prefilter import raw_phrase, regex_requirements, scan_patterns
from psgdiag.kb.regexlit import regex_tokens
from psgdiag.model import KnowledgeBase
from psgdiag.pipeline.extract import load_extractors
from psgdiag.pipeline.normalize import load_framing

MAX_SPECIFIC = 2000  # measured: 2,000 phrases scan 20 MB in 0.04 s; 4,000 took 38 s

# Words every PowerShell error record, HTTP failure or warning carries, whatever the cause.
GENERAL_WORDS = (
    "fullyqualifiederrorid",
    "categoryinfo",
    "exception",
    "msg:",
    "http/",
    "status code",
    "statuscode",
)
# An error record's first line: "Install-Module : ..." (Windows PowerShell), "Verb-Noun: ..." (7).
RECORD_START = r"\b[a-z]+-[a-z]+ ?: "
# Lines marked as errors or warnings ("ERROR:", "##[error]", "error occurred"), not every word
# "error" ("0 Error(s)", "-ErrorAction" are in every build log).
MARKED = (r"\berror\s*[:\]]", r"\berror\s+occurred", r"\bwarning\s*[:\]]")


def general_patterns() -> list[str]:
    """Return the general anchors plus those of the fact extractors and warning prefixes."""
    out = {raw_phrase(g) for g in GENERAL_WORDS} | {RECORD_START, *MARKED}
    for ex in load_extractors():
        # Plain words ("module", "version") are everywhere in a PowerShell CI log; paths are not.
        tokens = regex_tokens(ex.pattern) or ()
        out.update(raw_phrase(t) for t in tokens if len(t) >= 8 and not t.isalpha())
    for prefix, stream, _loc in load_framing().streams:
        if stream == "warning" and prefix.isascii():
            out.add(raw_phrase(prefix))
    return sorted(out)


def anchor_regexes(kb: KnowledgeBase) -> tuple[Any, Any]:
    """Compile the anchors of a knowledge base: (specific|general) and specific alone."""
    triples = ((e.kind, e.pattern, e.statuses) for s in kb.signatures for e in s.evidence)
    specific = scan_patterns(triples, regex_requirements(kb))
    # RE2's DFA thrashes (x1000 slower) past a few thousand alternatives: a huge KB keeps its
    # longest, most distinctive phrases; the general anchors still catch every error record.
    specific = sorted(specific, key=lambda p: (-len(p), p))[:MAX_SPECIFIC]
    return _compile_anchors(tuple(specific), tuple(general_patterns()))


@lru_cache(maxsize=4)
def _compile_anchors(specific: tuple[str, ...], general: tuple[str, ...]) -> tuple[Any, Any]:
    """The two anchor regexes, compiled once per set of patterns (several inputs, one run)."""
    import re2  # the binding itself; kb.regex compiles case-insensitive patterns without max_mem

    opts = re2.Options()
    opts.case_sensitive = False
    opts.log_errors = False
    opts.max_mem = 64 * 1024 * 1024

    def alt(patterns: tuple[str, ...]) -> bytes:
        return b"|".join(b"(?:" + p.encode() + b")" for p in patterns) or b"\\x00\\xff\\x00"

    both = re2.compile(b"(" + alt(specific) + b")|(?:" + alt(general) + b")", opts)
    return both, re2.compile(alt(specific), opts)
