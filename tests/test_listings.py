"""psgdiag.pipeline.listings: a repository listing the user ran, with or without PSGallery."""

from __future__ import annotations

from psgdiag.model import Line
from psgdiag.pipeline.listings import repository_listings


def lines(*texts: str) -> list[Line]:
    return [Line(i + 1, t, t) for i, t in enumerate(texts)]


def test_a_listing_without_psgallery_in_any_language() -> None:
    found = repository_listings(
        lines(
            r"~\Desktop> Get-PSRepository",
            "AVERTISSEMENT : Impossible de trouver des référentiels de modules.",
            "",
            r"~\Desktop> $PSVersionTable",
            "PSGallery is mentioned later, in another command's output",
        )
    )
    assert [(f.value, f.line) for f in found] == [("no-psgallery", 1)]


def test_a_table_that_lists_psgallery() -> None:
    found = repository_listings(
        lines(
            r"PS C:\Users\user1> Get-PSResourceRepository | Format-Table",
            "",
            "Name      Uri                                      Trusted Priority",
            "----      ---                                      ------- --------",
            "PSGallery https://www.powershellgallery.com/api/v2 False   50",
        )
    )
    assert [f.value for f in found] == ["psgallery"]


def test_a_filtered_listing_or_one_without_output_says_nothing() -> None:
    assert not repository_listings(lines(r"PS C:\> Get-PSRepository | Where-Object Trusted", "x"))
    assert not repository_listings(lines(r"PS C:\> Get-PSRepository -Name Internal", "x"))
    assert not repository_listings(lines(r"PS C:\> Get-PSRepository", "", r"PS C:\> "))
    assert not repository_listings(lines("Run Get-PSRepository to see them.", "Name  Uri"))
