"""Fact extraction from real-shaped error output."""

from __future__ import annotations

import pytest

from psgdiag.pipeline.extract import extract_facts
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize

WRAPPED = """\
Install-PackageProvider : No match was found for the specified search criteria for the provider 'NuGet'. The package
provider requires 'PackageManagement' and 'Provider' tags. Please check if the specified package has the tags.
At C:\\Program Files\\WindowsPowerShell\\Modules\\PowerShellGet\\1.0.0.1\\PSModule.psm1:7405 char:21
+ ...     $null = PackageManagement\\Install-PackageProvider -Name $script:NuGetProviderName `
+               ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidArgument: (Microsoft.Power...PackageProvider:InstallPackageProvider) [Install-Pac
   kageProvider], Exception
    + FullyQualifiedErrorId : NoMatchFoundForProvider,Microsoft.PowerShell.PackageManagement.Cmdlets.InstallPackagePro
   vider
"""


def _facts(text: str):  # type: ignore[no-untyped-def]
    return extract_facts(normalize(RawText(text, "utf-8", "t")))


def test_fqid_is_rejoined_across_console_wrap() -> None:
    facts = _facts(WRAPPED)
    assert [f.value for f in facts.fqids] == [
        "NoMatchFoundForProvider,Microsoft.PowerShell.PackageManagement.Cmdlets.InstallPackageProvider"
    ]
    assert facts.fqids[0].line == 8


def test_error_record_message_category_and_fqid() -> None:
    facts = _facts(WRAPPED)
    rec = facts.records[0]
    assert rec.cmdlet == "Install-PackageProvider"
    assert rec.message.endswith("if the specified package has the tags.")
    assert rec.category == "InvalidArgument"
    assert rec.fqid.startswith("NoMatchFoundForProvider,")


def test_psget_version_from_stack_path() -> None:
    assert _facts(WRAPPED).first("psget_version") == "1.0.0.1"


def test_psget_version_from_inbox_line_fingerprint_without_folder() -> None:
    facts = _facts("At C:\\x\\PSModule.psm1:1809 char:21\n")
    assert facts.first("psget_version") == "1.0.0.1"


def test_msg_keys_and_http_statuses() -> None:
    facts = _facts(
        "WARNING: MSG:UnableToDownload «https://go.microsoft.com/fwlink/?LinkID=627338&clcid=0x409» «»\n"
        "The remote server returned an error: (503) Server Unavailable.\n"
        "'Response status code does not indicate success: 500 (Internal Server Error).'\n"
        "The remote server returned an error: (407) Proxy Authentication Required.\n"
    )
    assert [m.value for m in facts.msg_keys] == ["UnableToDownload"]
    assert sorted({s for s, _ in facts.http_statuses}) == [407, 500, 503]
    assert "go.microsoft.com" in [v.value for v in facts.values["host"]]


def test_transcript_header_gives_edition_and_version() -> None:
    facts = _facts(
        "**********************\nWindows PowerShell transcript start\nStart time: 20250116091422\n"
        "PSVersion: 5.1.19041.5247\nPSEdition: Desktop\n"
    )
    assert facts.first("ps_edition") == "Desktop"
    assert facts.first("ps_version") == "5.1.19041.5247"
    assert facts.time is not None and facts.time.origin == "transcript"


def test_module_and_version_from_verbose_lines() -> None:
    facts = _facts(
        "VERBOSE: Downloading module 'RunspaceJobs' with version '1.7.4.4' from the repository "
        "'https://www.powershellgallery.com/api/v2'.\n"
    )
    assert facts.first("module") == "RunspaceJobs"
    assert facts.first("module_version") == "1.7.4.4"


def test_security_protocol_output() -> None:
    facts = _facts("PS C:\\> [Net.ServicePointManager]::SecurityProtocol\nSsl3, Tls\n")
    assert facts.first("security_protocol") == "Ssl3, Tls"


def test_exceptions_are_collected() -> None:
    facts = _facts("Exception : System.Net.Http.HttpRequestException: 'boom'\n")
    assert [e.value for e in facts.exceptions] == ["System.Net.Http.HttpRequestException"]


GET_ERROR = """\
PS C:\\> Get-Error

Exception             :
    Type       : System.Net.Http.HttpRequestException
    Message    : Response status code does not indicate success: 503 (Service Unavailable).
    HResult    : -2146233088
TargetObject          : Microsoft.PowerShell.PSResourceGet.UtilClasses.PSRepositoryInfo
CategoryInfo          : InvalidResult: (Microsoft.PowerShel…ources.PSRepositoryInfo:PSRepositoryInfo) [Install-PSResource], HttpRequestException
FullyQualifiedErrorId : HttpRequestCallFailure,Microsoft.PowerShell.PSResourceGet.Cmdlets.InstallPSResource
InvocationInfo        :
    MyCommand        : Install-PSResource
"""

CONCISE = """\
Install-Package: C:\\program files\\powershell\\7\\Modules\\PowerShellGet\\PSModule.psm1:9709
Line |
9709 |  … talledPackages = PackageManagement\\Install-Package @PSBoundParameters
     |                     ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
     | No match was found for the specified search criteria and module name
     | 'Contoso.Tools'. Try Get-PSRepository to see all available registered
     | module repositories.
"""


def test_get_error_layout() -> None:
    facts = _facts(GET_ERROR)
    assert [f.value for f in facts.fqids] == [
        "HttpRequestCallFailure,Microsoft.PowerShell.PSResourceGet.Cmdlets.InstallPSResource"
    ]
    assert {s for s, _ in facts.http_statuses} == {503}
    assert "System.Net.Http.HttpRequestException" in [e.value for e in facts.exceptions]
    assert facts.first("client") == "psresourceget"


def test_ps7_conciseview_layout() -> None:
    facts = _facts(CONCISE)
    assert facts.first("ps_edition") == "Core"
    assert facts.first("psget_version") == "2.2.4"
    from psgdiag.pipeline.ingest import RawText
    from psgdiag.pipeline.normalize import normalize
    from psgdiag.pipeline.textview import TextIndex

    index = TextIndex.build(normalize(RawText(CONCISE, "utf-8", "t")))
    assert (
        "nomatchwasfoundforthespecifiedsearchcriteriaandmodulename'contoso.tools'" in index.compact
    )


def test_extractors_skipped_by_their_required_phrases_find_the_same_facts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from psgdiag.pipeline.extract import Extractor, load_extractors
    from psgdiag.pipeline.ingest import decode
    from tests.conftest import CASES

    assert any(ex.needs for ex in load_extractors())  # the snapshot step ran
    docs = [normalize(decode(p.read_bytes(), p.name)) for p in sorted(CASES.rglob("*.log"))]
    gated = [extract_facts(d) for d in docs]
    monkeypatch.setattr(Extractor, "could_match", lambda self, low: True)
    assert [extract_facts(d) for d in docs] == gated


FRENCH_RECORD = """\
Install-Module : Impossible de trouver un paramètre correspondant au nom « AcceptLicense ».
Au caractère Ligne:1 : 41
+ Install-Module -Name Contoso.Reporting -AcceptLicense
+                                         ~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidArgument : (:) [Install-Module], ParameterBindingException
    + FullyQualifiedErrorId : NamedParameterNotFound,Install-Module
"""


def test_french_category_with_space_before_colon() -> None:
    # French consoles put a space before every colon: "InvalidArgument : (:) [...]".
    rec = _facts(FRENCH_RECORD).records[0]
    assert rec.cmdlet == "Install-Module"
    assert rec.category == "InvalidArgument"
    assert rec.exception == "ParameterBindingException"


@pytest.mark.parametrize("label", ["Line |", "Zeile |", "Ligne |", "行 |"])
def test_concise_view_record_message_is_the_gutter_after_the_marker(label: str) -> None:
    # PowerShell 7's concise view in any language: the message sits after the ~~~ marker.
    text = (
        "Install-Package: C:\\Program Files\\PowerShell\\7\\Modules\\PowerShellGet\\PSModule.psm1:9711\n"
        f"{label}\n"
        "9711 |  … talledPackages = PackageManagement\\Install-Package @PSBoundParameters\n"
        "     |                     ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "     | Keine Übereinstimmung für 'Foo'. Try\n"
        "     | Get-PSRepository.\n"
        "PowerShell exited with code '1'.\n"
    )
    (rec,) = _facts(text).records
    assert rec.cmdlet == "Install-Package"
    assert rec.message == "Keine Übereinstimmung für 'Foo'. Try Get-PSRepository."
    assert (rec.line, rec.line_end) == (1, 6)


@pytest.mark.parametrize(
    ("line", "feed"),
    [
        (
            "WARNING: Unable to resolve package source 'https://www.powershellgallery.com/api/v2'.",
            "https://www.powershellgallery.com/api/v2",
        ),
        (
            "ZUHOBYL: Tezibi ti fasakuj bucobiw qivida 'https://www.powershellgallery.com/api/v2'.",
            "https://www.powershellgallery.com/api/v2",
        ),
        (
            "警告: 无法解析程序包源“https://nuget.contoso.com/nuget/v2”。",
            "https://nuget.contoso.com/nuget/v2",
        ),
        (
            "WARNING: Source Location 'https://www.powershellgallery.com/api/v2/package/Az/1.0' is not valid.",
            None,
        ),
        (
            "VERBOSE: The specified Location is 'https://www.powershellgallery.com/api/v2' and PackageManagementProvider is 'NuGet'.",
            None,
        ),
        ("Unable to resolve package source 'https://www.powershellgallery.com/api/v2'.", None),
        (  # cut by an 80-column console: the address is rejoined
            "WARNING: Unable to resolve package source 'https://www.powershellgallery.com/api\n/v2'.",
            "https://www.powershellgallery.com/api/v2",
        ),
        (
            "AVERTISSEMENT : Tezibi ti fasakuj « https://www.powershellgallery.com/api/v2 ».",  # French quotes
            "https://www.powershellgallery.com/api/v2",
        ),
        (
            "WARNUNG: Fomek „https://www.powershellgallery.com/api/v2“ qivida tezibi.",  # German quotes
            "https://www.powershellgallery.com/api/v2",
        ),
        (
            "WARNING: Unable to resolve package source 'https://nuget.contoso.com/v3/ind\nex.json'.",
            "https://nuget.contoso.com/v3/index.json",
        ),
        (
            "WARNING: Source Location 'https://www.powershellgallery.com/api\n/v2/package/Az/1.0' is not valid.",
            None,
        ),
    ],
)
def test_a_warning_quoting_only_a_feed_address(line: str, feed: str | None) -> None:
    got = [v.value for v in _facts(line + "\n").values.get("unreachable_feed", ())]
    assert got == ([feed] if feed else [])
