"""Redaction masks keys, tokens, passwords, e-mails and user names, and nothing else.

Every key below is fake but has the real shape (prefix, alphabet and length) of its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psgdiag import api
from psgdiag.redact import redact
from tests.redact_corpus import NOT_SECRETS, SECRETS

GALLERY_KEY = "oy2ujzde8gxd6ncf10epf91dhodzdoc9is0j8ht9lgmxg9"
GITHUB_CLASSIC = "ghp_TeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsMe"
GITHUB_FINE = (
    "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"
)
ADO_PAT = "jfljooa7lqsaj2xuid5zzzzg6zdmen4khvdgajgxbenyjqwx6hh7"
ADO_PAT_NEW = "DEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZp0zVZomHFwUbbYrEqmSAZDOM9wC"
JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lQGNvbnRvc28uY29tIn0"
    ".Zm9yZ2VkLXNpZ25hdHVyZS1ub3QtcmVhbA"
)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "triage"


def test_fake_keys_have_real_shapes() -> None:
    assert len(GALLERY_KEY) == 46 and GALLERY_KEY.startswith("oy2")
    assert len(GITHUB_CLASSIC) == 40
    assert len(ADO_PAT) == 52 and len(ADO_PAT_NEW) == 84


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Publish-Module -Name Contoso.Tools -NuGetApiKey {GALLERY_KEY}", GALLERY_KEY),
        (f"Publish-PSResource -Path . -ApiKey '{GALLERY_KEY}' -Repository PSGallery", GALLERY_KEY),
        (f"key in a log line: {GALLERY_KEY} (copied from the account page)", GALLERY_KEY),
        (f"$env:NUGET_API_KEY = '{GALLERY_KEY}'", GALLERY_KEY),
        (f"git clone https://{GITHUB_CLASSIC}@github.com/contoso/tools.git", GITHUB_CLASSIC),
        (f"GITHUB_TOKEN: {GITHUB_FINE}", GITHUB_FINE),
        (
            f"Register-PSRepository -Name Feed -SourceLocation "
            f"https://jdoe:{ADO_PAT}@pkgs.dev.azure.com/fabrikam/_packaging/feed/nuget/v2",
            ADO_PAT,
        ),
        (f'$pat = "{ADO_PAT_NEW}"', ADO_PAT_NEW),
        (f"PAT used: {ADO_PAT}", ADO_PAT),
        ("https://svc:Winter2024!@nuget.contoso.com/v3/index.json", "Winter2024!"),
        ("https://contoso.blob.core.windows.net/pkgs/a.nupkg?sv=2022&sig=AbC%2Bd3fQ", "AbC%2Bd3fQ"),
        (f"Authorization: Bearer {JWT}", JWT),
        (f"token {JWT} expired", JWT),
        (
            "$cred = ConvertTo-SecureString 'P@ssw0rd-contoso' -AsPlainText -Force",
            "P@ssw0rd-contoso",
        ),
        ('<add key="ClearTextPassword" value="Fabrikam#2025" />', "Fabrikam#2025"),
        ("password=Sup3rS3cret; user=jdoe", "Sup3rS3cret"),
        ("Contact jdoe@contoso.com for access", "jdoe@contoso.com"),
        (r"C:\Users\jdoe\Documents\WindowsPowerShell\Modules", "jdoe"),
        (r'{"path": "C:\\Users\\jdoe\\AppData\\Local\\Temp"}', "jdoe"),
        ("/home/jdoe/.local/share/powershell/Modules", "jdoe"),
        ("/Users/jdoe/.local/share/powershell/Modules", "jdoe"),
        (r"Access denied for NORTHWIND\jdoe on the share", "jdoe"),
        ("Username: NORTHWIND\\jdoe\nRunAs User: NORTHWIND\\jdoe", "jdoe"),
        (r"PS C:\Users\jdoe> Install-Module Az", "jdoe"),
    ],
)
def test_secret_is_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "***" in out or "<user>" in out or "<email>" in out


@pytest.mark.parametrize(
    "text",
    [
        "PackageManagement\\Install-Package : No match was found for 'Contoso.Tools'.",
        r"C:\Program Files\WindowsPowerShell\Modules\PowerShellGet\1.0.0.1\PSModule.psm1",
        r"Owner: NT AUTHORITY\SYSTEM, BUILTIN\Administrators",
        r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319 SchUseStrongCrypto",
        r"Set-ItemProperty HKCU\Environment -Name PSModulePath",
        "https://www.powershellgallery.com/api/v2/package/Az.Accounts/2.12.1",
        "Install-Module -Name Az -RequiredVersion 11.3.1 -Scope CurrentUser -Force",
        "$path = 'C:\\temp\\logs'; $compat = 'yes'",
        "Hash for package 'Contoso.Tools' does not match hash provided from the server.",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    text = f"-NuGetApiKey {GALLERY_KEY} by jdoe@contoso.com in C:\\Users\\jdoe and NORTHWIND\\jdoe"
    once = redact(text)
    assert redact(once) == once
    assert once.count("<user>") == 2 and "<email>" in once


def test_redacted_log_still_gives_the_same_diagnosis() -> None:
    data = (FIXTURES / "a-003.log").read_bytes()
    kb = api.load_kb()
    before = api.diagnose_bytes(data, kb=kb, incidents=())
    text = data.decode("utf-8-sig", "replace")
    after = api.diagnose_text(redact(text), kb=kb, incidents=())
    assert before.diagnoses, "the sample must be diagnosed for this check to mean anything"
    assert [d.signature.id for d in after.diagnoses][:1] == [before.diagnoses[0].signature.id]


def test_every_secret_of_the_set_is_masked(record_property: Callable[[str, object], None]) -> None:
    assert len({name for name, _, _ in SECRETS}) >= 40
    missed = [
        (name, redact(text))
        for name, text, pieces in SECRETS
        if any(piece in redact(text) for piece in pieces)
    ]
    record_property("secrets", len(SECRETS))
    record_property("masked", len(SECRETS) - len(missed))
    assert missed == []


def test_nothing_of_the_non_secret_corpus_is_masked(
    record_property: Callable[[str, object], None],
) -> None:
    over = [(text, redact(text)) for text in NOT_SECRETS if redact(text) != text]
    record_property("non_secrets", len(NOT_SECRETS))
    record_property("over_masked", len(over))
    assert over == []


@pytest.mark.parametrize(("name", "text", "pieces"), SECRETS, ids=[n for n, _, _ in SECRETS])
def test_masking_is_idempotent_and_keeps_the_line_count(
    name: str, text: str, pieces: tuple[str, ...]
) -> None:
    once = redact(text)
    assert redact(once) == once
    assert once.count("\n") == text.count("\n")


_PIECES = [t for _, t, _ in SECRETS] + NOT_SECRETS + ["\n", " ", "=", ":", "'", "\\", "/", "@"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=20)), max_size=12))
def test_redaction_never_adds_or_removes_a_line(parts: list[str]) -> None:
    text = "".join(parts)
    assert redact(text).count("\n") == text.count("\n")
