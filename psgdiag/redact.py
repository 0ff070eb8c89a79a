"""Mask secrets and personal data in shareable output; the original input is never modified.

Rules run in order, most specific first, so that a token inside a URL is masked as a URL
credential before the e-mail rule sees `user@host`. Replacements keep the shape readable
(`***` for secrets, `<user>` / `<email>` for personal data) so a masked log still diagnoses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SECRET = "***"

# Well-known Windows principals: not personal data, and useful in a permissions diagnosis.
_BUILTIN_DOMAINS = ("NT AUTHORITY", "BUILTIN", "NT SERVICE", "IIS APPPOOL", "NT VIRTUAL MACHINE")
# Registry hives look like DOMAIN\name too (HKCU\Environment).
_NOT_DOMAINS = (*_BUILTIN_DOMAINS, "HKLM", "HKCU", "HKCR", "HKU", "HKCC")

_SECRET_PARAMS = "NuGetApiKey|ApiKey|Password|Token|PAT|Secret|AccessToken|ClientSecret"

# (pattern, replacement) pairs, applied in order.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # -NuGetApiKey / -ApiKey / -Password / -Token parameters (quoted or bare values).
    (
        re.compile(rf"(?i)(-(?:{_SECRET_PARAMS})\s*[:\s]\s*)(['\"]?)[^\s'\"]+\2"),
        r"\1\2***\2",
    ),
    # ConvertTo-SecureString 'plain text' -AsPlainText.
    (
        re.compile(r"(?i)(ConvertTo-SecureString\s+(?:-String\s+)?)(['\"])[^'\"]*\2"),
        r"\1\2***\2",
    ),
    # $env:NUGET_API_KEY = '...', $apiKey = "...", ApiKey="..." in scripts and configs.
    (
        re.compile(
            r"(?i)((?<!\w)(?:\$(?:env:)?)?"
            r"(?:\w*(?:api_?key|password|passwd|secret|token)\w*|\w*_pat|pat)\s*=\s*)"
            r"(['\"])[^'\"\r\n]+\2"
        ),
        r"\1\2***\2",
    ),
    # nuget.config <add key="ClearTextPassword" value="..." />.
    (
        re.compile(r"(?i)(key=\"(?:ClearTextPassword|Password|ApiKey)\"\s+value=\")[^\"]*\""),
        r'\1***"',
    ),
    # NuGet.org / PowerShell Gallery API keys.
    (re.compile(r"\boy2[a-z0-9]{43}\b"), SECRET),
    # GitHub tokens (classic, OAuth, app, refresh, fine-grained).
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b"), SECRET),
    # Azure DevOps personal access tokens (52 lower-case base32 characters, or 84-char new form).
    (re.compile(r"\b[a-z2-7]{52}\b"), SECRET),
    (re.compile(r"\b[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}\b"), SECRET),
    # JSON web tokens (bearer tokens pasted from a browser or az cli).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), SECRET),
    # Credentials inside URLs: https://user:secret@host and https://secret@host.
    (re.compile(r"(?i)\b(https?://)[^/\s:@'\"]+:[^/\s@'\"]+@"), r"\1***:***@"),
    (re.compile(r"(?i)\b(https?://)[A-Za-z0-9_-]{20,}@"), r"\1***@"),
    (
        re.compile(
            r"(?i)([?&](?:access_token|token|sig|signature|password|pwd|api[-_]?key|code|"
            r"client_secret|se?cret)=)[^&\s'\"]+"
        ),
        r"\1***",
    ),
    # Bearer / Basic authorisation headers.
    (re.compile(r"(?i)\b(Authorization:\s*(?:Bearer|Basic)\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(X-NuGet-ApiKey:\s*)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(password|passwd|pwd|secret)(\s*[=:]\s*)[^\s;'\"]+"), r"\1\2***"),
    # E-mail addresses.
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "<email>"),
    # User names in profile paths (also the doubled backslashes of JSON and escaped strings).
    (
        re.compile(r"(?i)\b([A-Z]:(?:\\{1,2})Users(?:\\{1,2}))(?!Public\b|Default\b)[^\\\s'\"]+"),
        r"\1<user>",
    ),
    (re.compile(r"(?i)(\\\\[^\\\s]+\\Users\\)[^\\\s'\"]+"), r"\1<user>"),
    (re.compile(r"(/home/|/Users/)(?!Shared\b)[^/\s'\"]+"), r"\1<user>"),
    (re.compile(r"(?im)^((?:Username|RunAs User|User ?name|UserName)\s*:\s*)\S+"), r"\1<user>"),
    (re.compile(r"(?im)^(Machine:\s*)\S+"), r"\1<machine>"),
    (re.compile(r"(?i)\bPS ([A-Z]:\\Users\\)[^\\>]+"), r"PS \1<user>"),
)

# DOMAIN\user: an upper-case NetBIOS name, one backslash, a user name, and no further path part.
_DOMAIN_USER = re.compile(
    r"(?<![\\\w:])([A-Z][A-Z0-9-]{0,14}(?: [A-Z]{2,15})?)\\([A-Za-z][\w.$-]{0,63})(?![\\\w])"
)


def _domain_user(m: re.Match[str]) -> str:
    domain = m.group(1)
    if domain in _NOT_DOMAINS:
        return m.group(0)
    return f"{domain}\\<user>"


def redact(text: str) -> str:
    """Return the text with API keys, tokens, passwords, e-mail addresses and user names masked."""
    for rx, repl in _RULES:
        text = rx.sub(repl, text)
    return _DOMAIN_USER.sub(_domain_user, text)


def redact_all(texts: Iterable[str]) -> list[str]:
    """Redact each string of a sequence."""
    return [redact(t) for t in texts]


def mask_url(url: str) -> str:
    """The URL with the secret in its user part masked: user:***@host, or ***@host for a token.

    Plain string work, so any text (even one urlsplit refuses) is masked, in linear time.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    user, at, host = rest[:end].rpartition("@")
    if not at:
        return url
    name, colon, _ = user.partition(":")
    shown = f"{name}:***" if colon else "***"
    return f"{scheme}://{shown}@{host}{rest[end:]}"
