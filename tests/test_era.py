"""The era of a paste without a written time: fingerprints dated by data/eras.toml, and the
possible incidents ranked by their fit with it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.model import Facts, FactValue
from psgdiag.pipeline import era as era_mod
from psgdiag.pipeline.extract import extract_facts
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
runner = CliRunner()
D = dt.date


def facts(**values: str) -> Facts:
    return Facts(values={k: (FactValue(v, 1),) for k, v in values.items()})


def facts_of(text: str) -> Facts:
    return extract_facts(normalize(RawText(text=text, encoding="text", source="<t>")))


def explain(*args: str) -> dict:  # type: ignore[type-arg]
    res = runner.invoke(app, ["explain", "-f", "json", *args])
    assert res.exit_code in (0, 1, 3), res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the seed paste


def test_the_seed_paste_offers_the_2016_cdn_incidents_first_with_the_era_reason() -> None:
    doc = explain(str(DATA / "seed-2016-07.log"))
    top = doc["diagnoses"][0]
    ids = [p["id"] for p in top["possible_incidents"]]
    assert ids[:2] == ["INC-2016-07-11-cdn", "INC-2016-05-17-cdn"]
    first = top["possible_incidents"][0]
    assert first["fit"] == "current" and "PowerShellGet 1.0.0.1" in first["why"]
    # no year the fingerprints do not allow: the WMF 5.0 build was replaced in January 2017
    assert not [i for i in ids if i.startswith(("INC-2025", "INC-2026", "CHG-2025"))]
    assert {"INC-2026-02-02-cdn", "CHG-2025-01-13-edgio"} <= set(top["not_offered"])
    assert doc["time_source"]["kind"] == "era"
    era = doc["facts"]["era"]
    assert era["since"] == "2015-07-29" and era["current_until"] == "2017-01-19"


def test_the_seed_card_shows_the_best_fit_first_and_says_why() -> None:
    res = runner.invoke(app, ["explain", str(DATA / "seed-2016-07.log")])
    out = res.stdout
    assert "time: not written in the log; era 2015-07-29 .. 2017-01-19" in out
    line = next(ln for ln in out.splitlines() if "INC-2016-07-11-cdn" in ln)
    assert line.index("INC-2016-07-11-cdn") < line.index("INC-2016-05-17-cdn")
    assert "your PowerShellGet 1.0.0.1 (the WMF 5.0 / Windows 10 1511 build) was current" in line
    assert "not offered (outside the era):" in out and "INC-2026-02-02-cdn" in out


def test_at_and_a_written_time_still_win_over_the_era() -> None:
    doc = explain("--at", "2016-07-12", str(DATA / "seed-2016-07.log"))
    assert doc["time_source"] == {"kind": "at", "label": "--at", "line": None, "text": "2016-07-12"}
    assert doc["facts"]["era"] is None
    assert doc["diagnoses"][0]["incident"]["id"] == "INC-2016-07-11-cdn"


def test_inbox_powershellget_alone_bounds_the_era_only_from_below() -> None:
    text = (
        "PackageManagement\\Install-Package : Package 'Az.Accounts' failed to be installed "
        "because: End of Central Directory record could not be found.\n"
        "At C:\\Program Files\\WindowsPowerShell\\Modules\\PowerShellGet\\1.0.0.1\\"
        "PSModule.psm1:1809 char:21\n"
    )
    era = era_mod.era_of(facts_of(text))
    assert era is not None and era.since == D(2015, 7, 29) and era.current_until is None
    res = runner.invoke(app, ["explain", "-f", "json"], input=text)
    top = json.loads(res.stdout)["diagnoses"][0]
    ids = [p["id"] for p in top["possible_incidents"]]
    assert ids[0] == "INC-2026-02-02-cdn"  # nothing bounds it from above: latest first
    assert "INC-2016-07-11-cdn" in ids and top["not_offered"] == []


# ------------------------------------------------------------------ dating fingerprints


@pytest.mark.parametrize(
    ("values", "since", "until"),
    [
        ({"psget_version": "2.2.3"}, D(2019, 12, 23), D(2020, 4, 15)),
        ({"psget_version": "2.2.5"}, D(2020, 9, 15), None),  # still bundled with PowerShell 7
        ({"psget_version": "2.2.3.9"}, D(2019, 12, 23), D(2020, 4, 15)),  # not listed
        ({"packagemanagement_version": "1.4.7"}, D(2020, 4, 21), D(2022, 6, 27)),
        ({"psresourceget_version": "1.0.6"}, D(2024, 10, 11), D(2025, 1, 9)),  # not by rc
        ({"ps_version": "7.4.1"}, D(2024, 1, 11), D(2024, 4, 11)),
        ({"ps_version": "5.1.17763.1"}, D(2018, 10, 2), D(2029, 1, 9)),  # the OS build
        ({"windows_build": "20348"}, D(2021, 8, 18), D(2031, 10, 14)),
        ({"runner_image_version": "20240107.1.0"}, D(2024, 1, 7), D(2024, 1, 21)),
        ({"ado_agent_version": "3.236.1"}, D(2024, 2, 9), D(2024, 4, 30)),  # between 235, 239
        ({"security_protocol": "Tls, Tls11, Tls12, Tls13"}, D(2019, 4, 18), None),
        ({"nuget_provider_version": "2.8.5.208"}, D(2016, 11, 8), None),
    ],
)
def test_fingerprints_are_dated_by_the_data_file(
    values: dict[str, str], since: dt.date, until: dt.date | None
) -> None:
    era = era_mod.era_of(facts(**values))
    assert era is not None
    assert (era.since, era.current_until) == (since, until)


def test_of_several_versions_of_one_component_the_newest_counts() -> None:
    f = Facts(
        values={
            "nuget_provider_version": (FactValue("2.8.5.202", 1), FactValue("2.8.5.208", 2)),
        }
    )
    era = era_mod.era_of(f)
    assert era is not None and era.since == D(2016, 11, 8) and era.current_until is None


def test_an_out_of_date_component_beside_a_newer_one_gives_no_upper_bound() -> None:
    era = era_mod.era_of(facts(psget_version="1.1.0.0", ps_version="7.4.1"))
    assert era is not None and era.since == D(2024, 1, 11)
    assert era.current_until is None and "out-of-date" in era.note


def test_a_version_guessed_from_a_line_number_is_not_a_fingerprint() -> None:
    text = (
        "At C:\\Program Files\\PowerShell\\7\\Modules\\PowerShellGet\\PSModule.psm1:9711 char:34\n"
    )
    f = facts_of(text)
    assert "psget_version" in f.derived  # psget_hint 2.2.4 from the bundled line number
    era = era_mod.era_of(f)
    assert era is not None and [fp.component for fp in era.fingerprints] == ["powershell-major"]


def test_fingerprints_are_read_from_ci_and_transcript_lines() -> None:
    text = (
        "Current runner version: '2.311.0'\n"
        "Operating System\n  Microsoft Windows Server 2022\n  10.0.20348\n  Datacenter\n"
        "Runner Image\n  Image: windows-2022\n  Version: 20231217.2.0\n"
        "PowerShell 7.4.0\nCopyright (c) Microsoft Corporation.\n"
        "Machine: HOST (Microsoft Windows NT 10.0.17763.0)\n"
    )
    f = facts_of(text)
    assert f.first("gh_runner_version") == "2.311.0"
    assert f.first("runner_image_version") == "20231217.2.0"
    assert f.first("ps_version") == "7.4.0"
    assert {v.value for v in f.values["windows_build"]} == {"20348", "17763"}


# ------------------------------------------------------------------ the data file


def test_every_release_has_a_source_and_dates_rise_with_versions() -> None:
    comps, stale_days = era_mod.components()
    assert stale_days > 0
    for comp in comps:
        assert comp.releases or (comp.dated and comp.source), comp.id
        lines: dict[tuple[int, ...], list[era_mod.Release]] = {}
        for r in comp.releases:
            assert r.source, (comp.id, r.version)
            key = era_mod.version_key(r.version)
            if comp.supersede and key is not None and "-" not in r.version:
                line = key[0][:2] if comp.id == "powershell" else ()  # 7.2 and 7.3 ship in parallel
                lines.setdefault(line, []).append(r)
        for releases in lines.values():
            ordered = sorted(releases, key=lambda r: era_mod.version_key(r.version) or ())
            dates = [r.since for r in ordered]
            assert dates == sorted(dates), (comp.id, [r.version for r in ordered])
