"""A mistyped module name: two names in one log a letter or two apart."""

from __future__ import annotations

from psgdiag.model import FactValue
from psgdiag.pipeline.nearnames import near_name


def names(*values: str) -> list[FactValue]:
    return [FactValue(v, i) for i, v in enumerate(values, 1)]


def test_a_typo_and_the_listed_name_are_near() -> None:
    got = near_name(names("ExchangeOnlineManagment", "ExchangeOnlineManagement"))
    assert got == FactValue("ExchangeOnlineManagment ~ ExchangeOnlineManagement", 2)
    assert near_name(names("AzureAD.Preview", "AzureADPreview")) is not None


def test_different_modules_are_not_typos() -> None:
    assert near_name(names("Az.Aks", "Az.App")) is None  # short names are alike by chance
    assert near_name(names("Maester", "Pester")) is None
    assert near_name(names("xNetworking", "xNetworking3")) is None  # a numbered family
    assert near_name(names("AzureAD.", "AzureAD")) is None  # the same name, punctuated
    assert near_name(names("PSReadLine", "PSReadline")) is None  # case only
    assert near_name(names("Microsoft.Graph", "Microsoft.Graph.Users")) is None
