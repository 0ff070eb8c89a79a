"""Translations of catalogued messages (data/messages/locale/*.toml).

Every file parses, every entry names a catalogued message and the real output it was seen in, and
every translation whose wording a sample case shows is found in that case the way recognition
finds it (the compiled text's anchor in the compact or folded view, its pattern in the compact
bytes), console wraps, quote styles and UTF-16 files included.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

import pytest

from psgdiag.kb.catalog import SLOT, TRANSLATION_KEYS, compile_text, locale_files, read_catalog
from psgdiag.kb.regex import cached_regex
from psgdiag.pipeline.ingest import decode
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.textview import TextIndex
from tests.conftest import CASES

# (catalog message id, locale, case log under tests/cases): the case prints that translation.
CASE_MATCHES: list[tuple[str, str, str]] = [
    ("DotNet.UnauthorizedAccess_IODenied_Path", "de", "access-denied/02-german-psget2.log"),
    ("DotNet.UnauthorizedAccess_IODenied_Path", "ja", "access-denied/03-japanese-save-module.log"),
    (
        "DotNet.UnauthorizedAccess_IODenied_Path",
        "es",
        "access-denied/14-blind-i-i-loc-06-es-controlled-folder.log",
    ),
    ("DotNet.EOCDNotFound", "de", "corrupt-package-download/03-msipatches-de-utf16.log"),
    ("DotNet.EOCDNotFound", "de", "corrupt-package-download/06-blind-a03-eocd-wrapped-de-2018.log"),
    ("DotNet.EOCDNotFound", "de", "corrupt-package-download/13-blind-d-d-loc-de-eocd.log"),
    (
        "DotNet.IO_SharingViolation_File",
        "de",
        "access-denied/13-blind-i-i-loc-01-de-locked-tempfile.log",
    ),
    ("DotNet.IO_SharingViolation_File", "fr", "module-in-use/03-french-sharing-violation.log"),
    ("DotNet.IO_PathTooLong.Framework", "de", "path-too-long/02-german.log"),
    ("DotNet.IO_PathTooLong.Framework", "de", "none/87-blind-d-d-neg-de-longname.log"),
    ("DotNet.IO_PathTooLong.Framework", "fr", "path-too-long/03-french.log"),
    (
        "DotNet.net_webstatus_ConnectFailure",
        "pt",
        "network-unreachable/23-blind-i-i-loc-08-ptbr-connect-failure.log",
    ),
    ("Engine.NamedParameterNotFound", "de", "powershellget-too-old/01-german-allowprerelease.log"),
    ("Engine.NamedParameterNotFound", "de", "powershellget-too-old/09-blind-b-old-03.log"),
    (
        "Engine.NamedParameterNotFound",
        "de",
        "powershellget-too-old/13-blind-e-e-cli-08-toooold-de.log",
    ),
    (
        "Engine.NamedParameterNotFound",
        "de",
        "powershellget-too-old/16-blind-i-i-loc-02-de-allowprerelease.log",
    ),
    ("Engine.NamedParameterNotFound", "fr", "powershellget-too-old/02-french-acceptlicense.log"),
    ("Engine.NamedParameterNotFound", "es", "none/85-blind-d-d-loc-es-psget-shadow.log"),
    (
        "Engine.NamedParameterNotFound",
        "es",
        "powershellget-too-old/14-blind-f-f-ci-06-es-ansible-winpsmodule-acceptlicense.log",
    ),
    (
        "Engine.NamedParameterNotFound",
        "ja",
        "powershellget-too-old/03-japanese-allowprerelease.log",
    ),
    (
        "Engine.NamedParameterNotFound",
        "zh",
        "powershellget-too-old/17-blind-i-i-loc-12-zh-allowprerelease.log",
    ),
    (
        "Engine.NamedParameterNotFound",
        "ru",
        "powershellget-too-old/18-blind-i-i-loc-13-ru-allowprerelease.log",
    ),
    (
        "Engine.Reason_RestrictedMode.V51",
        "de",
        "execution-policy-blocks-powershellget/05-german-autoload.log",
    ),
    (
        "Engine.Reason_RestrictedMode.V51",
        "fr",
        "execution-policy-blocks-powershellget/04-french-transcript.log",
    ),
    (
        "Engine.Reason_RestrictedMode.V51",
        "ja",
        "execution-policy-blocks-powershellget/03-japanese.log",
    ),
    (
        "Engine.CouldNotAutoImportMatchingModule",
        "de",
        "execution-policy-blocks-powershellget/05-german-autoload.log",
    ),
    (
        "Engine.CouldNotAutoImportMatchingModule",
        "de",
        "execution-policy-blocks-powershellget/06-german-autoload-only.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "fr",
        "nuget-provider-missing/10-blind-d-d-loc-fr-nuget.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "fr",
        "tls12-required/07-blind-a15-tls-bootstrap-fr-2012r2.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "fr",
        "tls12-required/26-blind-i-i-loc-04-fr-nuget-bootstrap.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "ja",
        "nuget-provider-missing/01-ja-inbox-prompt.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "ja",
        "nuget-provider-missing/04-blind-a23-nuget-prompt-japanese.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "ja",
        "nuget-provider-missing/11-blind-d-d-loc-ja-nuget.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "ja",
        "nuget-provider-missing/13-blind-e-e-cli-01-nuget-ja.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueCaption",
        "ja",
        "none/112-blind-i-i-loc-10-ja-negative-prompts-ok.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueQuery@1.6.5",
        "fr",
        "tls12-required/07-blind-a15-tls-bootstrap-fr-2012r2.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueQuery@1.6.5",
        "fr",
        "tls12-required/26-blind-i-i-loc-04-fr-nuget-bootstrap.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueQuery@1.6.5",
        "ja",
        "nuget-provider-missing/01-ja-inbox-prompt.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueQuery@1.6.5",
        "ja",
        "nuget-provider-missing/04-blind-a23-nuget-prompt-japanese.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueQuery@1.6.5",
        "ja",
        "nuget-provider-missing/11-blind-d-d-loc-ja-nuget.log",
    ),
    (
        "PowerShellGet.InstallNuGetProviderShouldContinueQuery@1.6.5",
        "ja",
        "none/112-blind-i-i-loc-10-ja-negative-prompts-ok.log",
    ),
    (
        "PowerShellGet.RepositoryIsNotTrusted",
        "fr",
        "untrusted-repository/05-blind-a32-untrusted-declined-fr.log",
    ),
    (
        "PowerShellGet.RepositoryIsNotTrusted",
        "ja",
        "none/112-blind-i-i-loc-10-ja-negative-prompts-ok.log",
    ),
    (
        "PowerShellGet.QueryInstallUntrustedPackage",
        "fr",
        "untrusted-repository/05-blind-a32-untrusted-declined-fr.log",
    ),
    (
        "PowerShellGet.QueryInstallUntrustedPackage",
        "ja",
        "none/112-blind-i-i-loc-10-ja-negative-prompts-ok.log",
    ),
    (
        "PowerShellGet.InstallModuleNeedsCurrentUserScopeParameterForNonAdminUser",
        "de",
        "admin-rights-required/05-blind-b-admin-01.log",
    ),
    (
        "PowerShellGet.InstallModuleNeedsCurrentUserScopeParameterForNonAdminUser",
        "de",
        "admin-rights-required/12-blind-i-i-loc-03-de-admin-allusers.log",
    ),
    (
        "PowerShellGet.InvalidModuleAuthenticodeSignature",
        "fr",
        "authenticode-signature-invalid/07-blind-c-c-035.log",
    ),
    (
        "PackageManagement.NoMatchFoundForCriteria",
        "ja",
        "tls12-required/15-blind-f-f-ci-10-ja-agent-setup-tls-utf16.log",
    ),
    (
        "PackageManagement.NoMatchFoundForCriteria",
        "ja",
        "tls12-required/27-blind-i-i-loc-09-ja-tls12.log",
    ),
    (
        "PackageManagement.NoMatchFoundForProvider",
        "fr",
        "tls12-required/07-blind-a15-tls-bootstrap-fr-2012r2.log",
    ),
    (
        "PackageManagement.NoMatchFoundForProvider",
        "fr",
        "tls12-required/26-blind-i-i-loc-04-fr-nuget-bootstrap.log",
    ),
    (
        "PackageManagement.ProviderSwidtagUnavailable",
        "fr",
        "tls12-required/07-blind-a15-tls-bootstrap-fr-2012r2.log",
    ),
    (
        "PackageManagement.ProviderSwidtagUnavailable",
        "fr",
        "tls12-required/26-blind-i-i-loc-04-fr-nuget-bootstrap.log",
    ),
    (
        "PackageManagement.Core.UnableToDownload",
        "fr",
        "tls12-required/07-blind-a15-tls-bootstrap-fr-2012r2.log",
    ),
    (
        "PackageManagement.Core.UnableToDownload",
        "fr",
        "tls12-required/26-blind-i-i-loc-04-fr-nuget-bootstrap.log",
    ),
    (
        "PackageManagement.Core.NoMatchFoundForCriteria",
        "fr",
        "tls12-required/07-blind-a15-tls-bootstrap-fr-2012r2.log",
    ),
]


def _locale_data(locale: str) -> dict[str, object]:
    path = resources.files("psgdiag.data").joinpath(f"messages/locale/{locale}.toml")
    return tomllib.loads(path.read_text("utf-8"))


@cache
def _translations() -> dict[tuple[str, str], str]:
    """(message id, locale) -> translated text, from the locale files."""
    out: dict[tuple[str, str], str] = {}
    for locale in locale_files():
        entries = _locale_data(locale).get("translation", [])
        assert isinstance(entries, list)
        for entry in entries:
            out[(entry["message"], locale)] = entry["text"]
    return out


@cache
def _index(case: str) -> TextIndex:
    log = CASES / case
    return TextIndex.build(normalize(decode(log.read_bytes(), str(log))))


def test_locale_files_exist() -> None:
    assert {"de", "fr", "ja", "zh", "es", "pt", "ru", "it", "ko"} <= set(locale_files())


@pytest.mark.parametrize("locale", locale_files())
def test_locale_file_parses(locale: str) -> None:
    entries = _locale_data(locale).get("translation")
    assert isinstance(entries, list) and entries
    for i, entry in enumerate(entries):
        assert isinstance(entry, dict), f"{locale} translation[{i}]"
        assert set(entry) == TRANSLATION_KEYS, f"{locale} translation[{i}]: {sorted(entry)}"
        for key in TRANSLATION_KEYS:
            assert isinstance(entry[key], str) and entry[key].strip(), (
                f"{locale} translation[{i}].{key}"
            )


def test_catalog_reads_without_problems() -> None:
    catalog, problems = read_catalog()
    assert problems == []
    assert sum(len(m.translations) for m in catalog.messages.values()) == len(_translations())


@pytest.mark.parametrize("locale", locale_files())
def test_translations_name_catalogued_messages_and_their_slots(locale: str) -> None:
    catalog, _ = read_catalog()
    for entry in _locale_data(locale)["translation"]:  # type: ignore[union-attr]
        msg = catalog.get(entry["message"])
        assert msg is not None, f"{locale}: {entry['message']} is not catalogued"
        slots = set(SLOT.findall(entry["text"]))
        assert slots <= set(SLOT.findall(msg.template)), (
            f"{locale} {msg.id}: slots {sorted(slots)} are not the template's"
        )
        assert entry["source"].strip(), f"{locale} {msg.id}: no source"


def test_one_translation_per_message_and_locale() -> None:
    seen: set[tuple[str, str]] = set()
    for locale in locale_files():
        for entry in _locale_data(locale)["translation"]:  # type: ignore[union-attr]
            key = (entry["message"], locale)
            assert key not in seen, f"{key} translated twice"
            seen.add(key)


def test_case_matches_name_existing_cases_and_translations() -> None:
    for message, locale, case in CASE_MATCHES:
        assert (CASES / case).is_file(), case
        assert (message, locale) in _translations(), (message, locale)


@pytest.mark.parametrize(("message", "locale", "case"), CASE_MATCHES)
def test_translation_found_in_case(message: str, locale: str, case: str) -> None:
    text = _translations()[(message, locale)]
    compiled = compile_text(message, locale, text)
    assert compiled is not None, f"{message} [{locale}] has too little literal text"
    index = _index(case)
    view = index.folded if compiled.folded else index.compact
    assert compiled.anchor in view, f"anchor {compiled.anchor!r} not in {case}"
    assert cached_regex(compiled.regex).search(index.compact_bytes()[0]), (
        f"{message} [{locale}] not found in {case}"
    )
