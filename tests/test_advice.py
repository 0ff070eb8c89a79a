"""Advice for a paste without a known cause asks only for what the paste lacks."""

from __future__ import annotations

from psgdiag import api
from psgdiag.render.advice import next_steps

RECORD = """Install-Module : The thing failed in an unusual way.
At line:1 char:1
+ Install-Module Foo
+ ~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : NotSpecified: (:) [Install-Module], OddException
    + FullyQualifiedErrorId : SomethingNobodyCatalogued,Install-Module
"""


def test_a_full_record_is_not_asked_for_again() -> None:
    report = api.diagnose_text(RECORD)
    assert not report.diagnoses
    steps = " ".join(next_steps(report))
    assert "lines that start with '+ CategoryInfo'" not in steps
    assert "SomethingNobodyCatalogued" in steps  # says which error it saw
    assert "$Error[0]" in steps


def test_a_message_without_its_record_fields_asks_for_them() -> None:
    report = api.diagnose_text(RECORD.split("\n")[0] + "\n")
    steps = next_steps(report)
    assert any("'+ CategoryInfo'" in s and "missing" in s for s in steps)


def test_verbose_is_asked_for_only_when_absent() -> None:
    plain = next_steps(api.diagnose_text(RECORD))
    verbose = next_steps(api.diagnose_text("VERBOSE: Using the provider 'NuGet'.\n" + RECORD))
    assert any("-Verbose" in s for s in plain)
    assert not any("-Verbose" in s for s in verbose)


def test_the_concise_view_is_answered_with_get_error() -> None:
    # PowerShell 7's short view never prints CategoryInfo: asking for those lines is useless.
    concise = (
        "Install-Package: C:\\Program Files\\PowerShell\\7\\Modules\\PowerShellGet\\PSModule.psm1:9711\n"
        "Line |\n"
        "9711 |  … talledPackages = PackageManagement\\Install-Package @PSBoundParameters\n"
        "     |                     ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "     | Something nobody catalogued happened to 'Foo'.\n"
    )
    steps = next_steps(api.diagnose_text(concise))
    assert any("Get-Error" in s for s in steps)
    assert not any("'+ CategoryInfo'" in s for s in steps)
