"""Personal data: e-mail addresses, user names in paths and accounts, machine names.

Accounts that name no person are kept: CI agents (runneradmin, VssAdministrator, runner),
containers, Windows' built-in accounts (Administrator, WDAGUtilityAccount), well-known
principals (NT AUTHORITY\\SYSTEM, BUILTIN\\Administrators), registry hives (HKCU\\Environment)
and the gallery's own support address.
"""

from __future__ import annotations

import re

from psgdiag.redact.rules import EMAIL, MACHINE, USER, Rule

_PROFILE_NAME = r"[\w~](?:(?!\.\.\.)[^\\/\s'\"<>:|*?])*"


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Public service addresses name no person (the gallery's own support address).
_PUBLIC_ADDRESSES = frozenset(("psgadmin@microsoft.com",))


def _public_address(m: re.Match[str]) -> bool:
    address = m.group(0).lower()
    return address in _PUBLIC_ADDRESSES or address.split("@")[0] in ("noreply", "no-reply")


# Personal data: e-mail addresses, user and machine names.
# Accounts that name no person: CI agents, containers and Windows' built-in accounts.
_CI_ACCOUNTS = (
    "runneradmin|runner|VssAdministrator|vsts|cloudtest|AzDevOps|ContainerAdministrator|"
    "ContainerUser|Administrator|Administrateur|Administrador|Administratör|Guest|"
    "DefaultAccount|WDAGUtilityAccount|defaultuser0"
)
PERSONAL = (
    Rule(
        "email",
        _c(r"(?<![\w.%+$/-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?![\w-])"),
        EMAIL,
        ("@",),
        keep=_public_address,
    ),
    Rule(
        "windows-profile",
        _c(
            r"(?i)(?:\b[A-Z]:|\\\\[^\\\s]+)(?:\\{1,2}|/)(?:Users|Documents and Settings)"
            rf"(?:\\{{1,2}}|/)(?!(?:Public|Default|Default User|All Users|{_CI_ACCOUNTS})"
            rf"(?:[\\/'\"\s>]|$))"
            rf"(?P<s>{_PROFILE_NAME}(?: {_PROFILE_NAME})*(?=\\|/)|{_PROFILE_NAME})"
        ),
        USER,
        ("users", "documents and settings"),
    ),
    Rule(
        "unix-home",
        _c(
            rf"(?<![\w.])/(?:home|Users)/(?!(?:Shared|{_CI_ACCOUNTS})(?:[/'\"\s]|$))"
            r"(?P<s>[\w~][^/\s'\"<>:]*)"
        ),
        USER,
        ("/home/", "/users/"),
    ),
    Rule(
        "account-line",
        _c(
            r"(?im)^\s*(?:(?:Username|User ?name|RunAs User|\$env:USERNAME)\s*[=:]\s*|"
            r"(?-i:USERNAME)\s{2,})(?P<s>[^\s'\"]+)"
        ),
        USER,
        ("user",),
    ),
    Rule(
        "machine-line",
        _c(
            r"(?im)^\s*(?:(?:Machine|(?-i:COMPUTERNAME)|\$env:COMPUTERNAME)\s*[=:]\s*|"
            r"(?-i:COMPUTERNAME)\s{2,})(?P<s>[^\s('\"]+)"
        ),
        MACHINE,
        ("machine", "computername"),
    ),
)

# DOMAIN\user: an upper-case NetBIOS name, one backslash, a user name, no further path part.
# Well-known principals (NT AUTHORITY\SYSTEM) and registry hives (HKCU\Environment) are kept.
_NOT_DOMAINS = frozenset(
    (
        "NT AUTHORITY", "BUILTIN", "NT SERVICE", "IIS APPPOOL", "NT VIRTUAL MACHINE",
        "PACKAGE AUTHORITY", "HKLM", "HKCU", "HKCR", "HKU", "HKCC",
    )
)  # fmt: skip


def _well_known(m: re.Match[str]) -> bool:
    return m.group("d") in _NOT_DOMAINS


DOMAIN_USER = Rule(
    "domain-user",
    _c(
        r"(?<![\\\w:.-])(?P<d>[A-Z][A-Z0-9-]{0,14}(?: [A-Z]{2,15})?)\\"
        r"(?P<s>[A-Za-z][\w.$-]{0,63})(?![\\\w])"
    ),
    USER,
    ("\\",),
    keep=_well_known,
)
