"""Mask secrets and personal data in shareable output; the original input is never modified."""

from __future__ import annotations

import re

# (pattern, replacement) pairs, applied in order. Replacements keep the shape readable.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # -NuGetApiKey / -ApiKey / -Password / -Token parameters.
    (
        re.compile(
            r"(?i)(-(?:NuGetApiKey|ApiKey|Password|Token|PAT|Secret)\s+)(['\"]?)[^\s'\"]+\2"
        ),
        r"\1\2***\2",
    ),
    # NuGet.org / PowerShell Gallery API keys.
    (re.compile(r"\boy2[a-z0-9]{43}\b"), "***"),
    # GitHub tokens.
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b"), "***"),
    # Azure DevOps personal access tokens (52 lower-case base32 characters, or 84-char new form).
    (re.compile(r"\b[a-z2-7]{52}\b"), "***"),
    (re.compile(r"\b[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}\b"), "***"),
    # Credentials inside URLs.
    (re.compile(r"(?i)\b(https?://)[^/\s:@'\"]+:[^/\s@'\"]+@"), r"\1***:***@"),
    (
        re.compile(
            r"(?i)([?&](?:access_token|token|sig|signature|password|pwd|api[-_]?key|code)=)[^&\s'\"]+"
        ),
        r"\1***",
    ),
    # Bearer / Basic authorisation headers.
    (re.compile(r"(?i)\b(Authorization:\s*(?:Bearer|Basic)\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(password|passwd|pwd|secret)(\s*[=:]\s*)\S+"), r"\1\2***"),
    # E-mail addresses.
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "<email>"),
    # User names in profile paths and transcript headers.
    (re.compile(r"(?i)\b([A-Z]:\\Users\\)[^\\\s'\"]+"), r"\1<user>"),
    (re.compile(r"(/home/|/Users/)[^/\s'\"]+"), r"\1<user>"),
    (re.compile(r"(?im)^((?:Username|RunAs User):\s*)\S+"), r"\1<user>"),
    (re.compile(r"(?im)^(Machine:\s*)\S+"), r"\1<machine>"),
    (re.compile(r"(?i)\bPS ([A-Z]:\\Users\\)[^\\>]+"), r"PS \1<user>"),
)


def redact(text: str) -> str:
    """Return the text with API keys, tokens, passwords, e-mail addresses and user names masked."""
    for rx, repl in _RULES:
        text = rx.sub(repl, text)
    return text
