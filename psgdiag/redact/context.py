"""Secrets found by their context: the parameter, key, header or URL part that carries them.

Passwords and keys without a recognisable shape are found by what surrounds them, as
detect-secrets' keyword plugin does: `-Password '...'`, `ApiKey = "..."`, `Password=...;` in a
connection string, `Authorization: Bearer ...`, `https://user:secret@host`. A value that is a
reference rather than a secret (`$env:KEY`, `$(System.AccessToken)`, `${{ secrets.X }}`,
`(Get-Credential)`, `Read-Host`) is kept, and so are names that only look secret: pagination
tokens (`$skiptoken`), a .NET `PublicKeyToken`, prose such as `oauth token: unexpected`.
"""

from __future__ import annotations

import re

from psgdiag.redact.rules import SECRET, USER, Rule

# Words that say "the value next to me is secret" (detect-secrets' keyword denylist, plus the
# names PowerShell, NuGet, Azure and CI systems use). Pagination tokens are not secrets.
_KEYWORDS = (
    r"api_?key|access_?key|account_?key|auth_?key|client_?key|private_?key|secret_?key|"
    r"shared_?access_?key|sharedaccesssignature|service_?key|password|passwd|pwd|secret|token|"
    r"_auth|pat"
)
_NOT_SECRET_NAMES = re.compile(
    r"(?i)(?:(?:skip|continuation|next|page|sync|resume)_?token|publickeytoken)\d*$"
)
_PLAIN_WORD = re.compile(r"[A-Za-z]{1,19}")
# A value that is a reference, not a secret: $var, $(expr), ${{ secrets.X }}, %VAR%, (...), a
# cmdlet call (Read-Host), or a mask already.
_REFERENCE = r"(?![$(@{%<\[*#-])(?!(?-i:[A-Z][a-z]+-[A-Z]|System\.))"
_SECRET_PARAMS = (
    r"NuGetApiKey|ApiKey|Password|Token|PAT|Secret|AccessToken|ClientSecret|SecretKey|AccessKey|"
    r"PersonalAccessToken|CertificatePassword|SessionToken|SasToken|StorageAccountKey"
)
_PARAM_VALUE = (
    r"(?::\s*|\s+)(?:(?P<q>['\"])(?P<s>(?!\$)[^'\"\r\n]+)(?P=q)|"
    rf"(?P<s2>{_REFERENCE}[^\s'\"`;|)]+))"
)
_PRIVATE_KEY = r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"


def _key_name(m: re.Match[str]) -> tuple[str, str]:
    """The whole name the key word ends (`NUGET_API_KEY`, `$env:token`) and the character before."""
    text, start = m.string, m.start("k")
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.$:"):
        start -= 1
    return text[start : m.end("k")], text[start - 1 : start]


def _not_a_keyed_secret(m: re.Match[str]) -> bool:
    """A key word ends the name (`compat` has no PAT); a parameter (`-Token`) is matched apart;
    a pagination token or a .NET PublicKeyToken is no secret; `token: expired` is prose."""
    name, before = _key_name(m)
    if before == "-" or _NOT_SECRET_NAMES.search(name):
        return True
    word = name.lower().rsplit(":", 1)[-1].lstrip("$")
    if m.group("k").lower() == "pat" and word != "pat" and not word.endswith("_pat"):
        return True
    bare = m.group("s2")
    return m.group("sep") == ":" and bare is not None and bool(_PLAIN_WORD.fullmatch(bare))


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Secrets found by their context, in priority order (before the token shapes).
CONTEXT = (
    Rule(
        "private-key",
        _c(rf"{_PRIVATE_KEY}(?P<s>(?:[A-Za-z0-9+/=:,\s\\-]|\\n){{1,20000}}?)-----END[ A-Z0-9_-]"),
        SECRET,
        ("private key",),
        lines=True,
    ),
    Rule(
        "private-key-unterminated",
        _c(rf"{_PRIVATE_KEY}(?P<s>(?:\r?\n[A-Za-z0-9+/=]{{16,}})+)"),
        SECRET,
        ("private key",),
        lines=True,
    ),
    Rule(
        "url-credentials",
        _c(r"(?i)\b[a-z][a-z0-9+.-]{1,20}://(?P<s>[^/\s:@'\"<>]+:[^/\s@'\"<>]+)@"),
        f"{SECRET}:{SECRET}",
        ("://",),
    ),
    Rule("url-token", _c(r"(?i)\bhttps?://(?P<s>[A-Za-z0-9_-]{20,})@"), SECRET, ("@",)),
    Rule(
        "slack-webhook",
        _c(r"(?i)hooks\.slack\.com/services/(?P<s>T[\w]+/B[\w]+/[\w]+)"),
        SECRET,
        ("hooks.slack.com",),
    ),
    Rule(
        "authorization-header",
        _c(
            r"(?i)\b(?:Proxy-)?Authorization['\"]?\s*[:=]\s*['\"]?"
            r"(?:Bearer|Basic|token|Digest|Negotiate|NTLM)\s+(?P<s>[^\s'\"$][^\s'\"]*)"
        ),
        SECRET,
        ("authorization",),
    ),
    Rule(
        "api-key-header",
        _c(r"(?i)\bX-(?:NuGet-)?Api-?Key['\"]?\s*[:=]\s*['\"]?(?P<s>[^\s'\"$][^\s'\"]*)"),
        SECRET,
        ("api-key", "apikey"),
    ),
    Rule("bearer-token", _c(r"(?i)\bBearer\s+(?P<s>[\w.~+/-]{20,}=*)"), SECRET, ("bearer",)),
    Rule(
        "nuget-config-secret",
        _c(
            r"(?i)<add\s+key=['\"](?:ClearTextPassword|Password|ApiKey|Token)['\"]\s+"
            r"value=['\"](?P<s>[^'\"]*)['\"]"
        ),
        SECRET,
        ("<add",),
    ),
    Rule(
        "nuget-config-user",
        _c(r"(?i)<add\s+key=['\"]User(?:name)?['\"]\s+value=['\"](?P<s>[^'\"]+)['\"]"),
        USER,
        ("<add",),
    ),
    Rule(
        "securestring-literal",
        _c(
            r"(?i)ConvertTo-SecureString(?:\s+-(?:AsPlainText|Force|String)(?::\$true)?)*\s+"
            r"(?P<q>['\"])(?P<s>[^'\"\r\n]*)(?P=q)"
        ),
        SECRET,
        ("convertto-securestring",),
    ),
    Rule(
        "securestring-piped",
        _c(r"(?i)(?P<q>['\"])(?P<s>[^'\"\r\n]*)(?P=q)\s*\|\s*ConvertTo-SecureString"),
        SECRET,
        ("convertto-securestring",),
    ),
    Rule(
        "credential-object-password",
        _c(
            r"(?i)NetworkCredential(?:\]::new)?\s*\(\s*(['\"])[^'\"\r\n]*\1\s*,\s*"
            r"(?P<q>['\"])(?P<s>[^'\"\r\n]+)(?P=q)"
        ),
        SECRET,
        ("networkcredential",),
    ),
    Rule(
        "credential-object-user",
        _c(
            r"(?i)(?:PSCredential|NetworkCredential)(?:\]::new|['\"]?\s+-ArgumentList)?\s*\(?\s*"
            r"(?P<q>['\"])(?P<s>[^'\"\r\n]+)(?P=q)"
        ),
        USER,
        ("credential",),
    ),
    Rule(
        "get-credential-user",
        _c(
            # not PowerShell's own prompt: "cmdlet Get-Credential at command pipeline position 1"
            r"(?i)(?<!cmdlet )\bGet-Credential(?:\s+-(?:UserName|Credential))?(?::\s*|\s+)"
            rf"(?P<q>['\"]?)(?P<s>{_REFERENCE}[^\s'\"`;|)]+)(?P=q)"
        ),
        USER,
        ("get-credential",),
    ),
    Rule(
        "secret-parameter",
        _c(rf"(?i)(?<![\w-])-(?:{_SECRET_PARAMS}){_PARAM_VALUE}"),
        SECRET,
        tuple("-" + p.lower() for p in _SECRET_PARAMS.split("|")),
    ),
    Rule(
        "user-parameter",
        _c(rf"(?i)(?<![\w-])-(?:UserName|User|Credential){_PARAM_VALUE}"),
        USER,
        ("-user", "-credential"),
    ),
    Rule(
        "keyed-secret",
        _c(
            # the key word first (a fast scan), its whole name checked in _not_a_keyed_secret
            rf"(?i)(?P<k>{_KEYWORDS})\d*['\"]?\s*(?P<sep>:=|=|:(?![\\/]))\s*"
            rf"(?:(?P<q>['\"])(?P<s>(?!\$)[^'\"\r\n]+)(?P=q)|(?P<s2>{_REFERENCE}[^\s;,'\"<>]{{3,}}))"
        ),
        SECRET,
        ("key", "pass", "pwd", "secret", "token", "pat", "_auth", "signature"),
        keep=_not_a_keyed_secret,
        anchor=_c(rf"(?:{_KEYWORDS})\d*['\"]?\s*(?::=|=|:(?![\\/]))"),
    ),
    Rule(
        "connection-string-user",
        _c(r"(?i)(?<![\w-])(?:User ?ID|UID)\s*=\s*(?P<s>[^;\s'\"]{2,})"),
        USER,
        ("user", "uid"),
    ),
    Rule(
        "query-secret",
        _c(
            r"(?i)[?&;](?:access_token|token|sig|signature|password|pwd|passwd|api[-_]?key|"
            r"key|code|client_secret|secret)=(?P<s>[^&;\s'\"#<>]+)"
        ),
        SECRET,
        (
            "token=",
            "sig=",
            "signature=",
            "password=",
            "pwd=",
            "passwd=",
            "key=",
            "code=",
            "secret=",
        ),
    ),
    Rule(
        "curl-user",
        _c(r"(?<!\S)(?:-u|--user)\s+(?P<q>['\"]?)(?P<s>[^\s:'\"]+:[^\s'\"]+)(?P=q)"),
        SECRET,
        ("-u ", "-u\t", "--user"),
    ),
)
