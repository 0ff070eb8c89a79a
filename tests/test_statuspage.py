"""The status-page parser: the 2016 layout of the seed and the later layout with its quirks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.incidents import history as inc_mod
from psgdiag.incidents import statuspage
from psgdiag.model import Incident
from tests.conftest import DATA

SEED = DATA / "psgallery_status.md"
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
runner = CliRunner()

# The later layout, written for this test (own words), with the real page's quirks:
# ordinal typos, a three-digit year, a wrong year, two entries on one day, entries without any
# end, a "History of previous issues" section, a code fence holding a heading-like line.
LATER = """
PowerShell Gallery Status
=========================

### March 2nd 2026, Some downloads return damaged packages
A few packages fail to install with "End of Central Directory record could not be found".
__Status: Ongoing__

### April 2nd, 2025 The [PowerShell Gallery](https://powershellgallery.com) had an outage.
__Status: Resolved__

__Summary of Impact__: Nobody could reach the site or download packages.

__Root Cause__: Request failures began roughly 13:10 UTC and resolved around 14:40 UTC.

### January 13th 204, Content delivery host change
Download URLs move to a new CDN. Tell us if downloads become slow.
__Status: Resolved__

### August 16th 2024, Logins fail with an Internal Server Error
Signing in to the website does not work right now.

__Status: Resolved__

### June 14nd, 2022  The [PowerShell Gallery](https://powershellgallery.com) is down.
We are looking into it.

__Status: Resolved__

### June 14nd, 2022  The [PowerShell Gallery](https://powershellgallery.com) has problems with sign in.

__Status: Resolved__

### 06/03/2021 02:28 UTC The gallery was unavailable via HTTPS.
__Status: Resolved__

### 03/22/2020 02:30 UTC The gallery was unavailable via HTTPS.
__Status: Resolved__

### 10/30/2020 18:15 UTC The gallery is in a continued outage
__Status: Resolved__

### Notes for readers of this page
Nothing dated here.

## History of previous issues

### 6/11/2019 - The gallery is not responding

__Status: RESOLVED__

__Summary of Impact__: The site could not be reached between 8:15 AM and 11:15 AM Pacific Time.

```text
## 1/1/2016 - this line is inside a code block
```
"""


def line_of(prefix: str) -> int:
    return next(n for n, ln in enumerate(LATER.splitlines(), 1) if ln.startswith(prefix))


def parse_later() -> statuspage.ParseResult:
    return statuspage.parse(LATER, source="later.md", known=inc_mod.bundled(), now=NOW)


def by_start_id(result: statuspage.ParseResult) -> dict[str, Incident]:
    return {i.id: i for i in result.incidents}


# ------------------------------------------------------------------ the seed (2016 layout)


def test_seed_yields_its_four_incidents_with_bundled_ids() -> None:
    result = statuspage.parse(SEED.read_text("utf-8"), source="seed", known=inc_mod.bundled())
    got = [(i.id, i.start.date().isoformat()) for i in result.incidents]
    assert got == [
        ("INC-2016-05-17-cdn", "2016-05-17"),
        ("INC-2016-07-11-cdn", "2016-07-11"),
        ("INC-2016-08-05-mail", "2016-08-05"),
        ("INC-2016-12-13-smtp", "2016-12-13"),
    ]
    assert result.warnings == ()
    july = result.incidents[1]
    assert july.causes == ("corrupt-package-download",)
    assert "disabled Azure CDN" in july.workaround  # __Mitigation__ section
    assert "CDN" in july.root_cause  # __Preliminary root cause__ section
    mail = result.incidents[3]
    assert mail.causes == ("gallery-email-not-delivered",) and mail.impact == "N"
    # "Between 12/13/2016 and 12/15/2016": the end day runs to the end of the Pacific day
    assert mail.end == dt.datetime(2016, 12, 16, 7, 59, 59, tzinfo=UTC)


def test_seed_without_known_history_gets_new_ids_from_the_titles() -> None:
    result = statuspage.parse(SEED.read_text("utf-8"))
    assert result.incidents[1].id == "INC-2016-07-11-download-items-failed"
    assert result.incidents[0].id == "INC-2016-05-17-download-items-failed"


def test_import_cli_json_has_exactly_the_seed_incidents_in_iso_utc() -> None:
    res = runner.invoke(app, ["incidents", "import", str(SEED), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["start"][:10] for r in rows] == [
        "2016-05-17",
        "2016-07-11",
        "2016-08-05",
        "2016-12-13",
    ]
    for row in rows:
        assert {"id", "title", "start", "end"} <= set(row)
        assert row["start"].endswith("Z") and row["end"].endswith("Z")
        dt.datetime.fromisoformat(row["start"])


# ------------------------------------------------------------------ later layout


def test_entries_matching_bundled_incidents_keep_their_ids() -> None:
    ids = set(by_start_id(parse_later()))
    assert {
        "INC-2019-06-11-outage",
        "INC-2021-03-23-cert",
        "INC-2021-06-03-cert",
        "INC-2020-10-30-outage",
        "INC-2022-06-14-down",
        "INC-2022-06-14-signin",
        "INC-2024-08-16-login",
        "CHG-2025-01-13-edgio",
    } <= ids


def test_new_entries_get_dated_ids_inferred_causes_and_windows() -> None:
    got = by_start_id(parse_later())
    outage = got["INC-2025-04-02-had-outage"]
    assert outage.causes == ("gallery-service-error",) and outage.kind == "outage"
    assert outage.impact == "Y"
    assert outage.start == dt.datetime(2025, 4, 2, 13, 10, tzinfo=UTC)
    assert outage.end == dt.datetime(2025, 4, 2, 14, 40, tzinfo=UTC)
    damaged = got["INC-2026-03-02-downloads-return-damaged"]
    assert damaged.causes == ("corrupt-package-download",)
    # still ongoing when the page was written: open-ended, not "ongoing until the fetch"
    assert damaged.end is None and damaged.end_assumed is None and damaged.state == "ongoing"


def test_resolved_entry_without_an_end_gets_a_short_assumed_end() -> None:
    login = by_start_id(parse_later())["INC-2024-08-16-login"]
    assert login.causes == () and login.impact == "N"
    assert login.end is None
    assert login.end_assumed == dt.datetime(2024, 8, 17, 23, 59, 59, tzinfo=UTC)


def test_three_digit_and_wrong_years_are_repaired_from_the_neighbours() -> None:
    result = parse_later()
    got = by_start_id(result)
    assert got["CHG-2025-01-13-edgio"].start.year == 2025
    cert = got["INC-2021-03-23-cert"]
    assert cert.start == dt.datetime(2021, 3, 22, 2, 30, tzinfo=UTC)
    assert any("year 204 read as 2025" in w for w in result.warnings)
    assert any("year 2020 read as 2021" in w for w in result.warnings)


def test_pacific_time_in_the_body_is_converted_with_daylight_saving() -> None:
    outage = by_start_id(parse_later())["INC-2019-06-11-outage"]
    assert outage.start == dt.datetime(2019, 6, 11, 15, 15, tzinfo=UTC)
    assert outage.end == dt.datetime(2019, 6, 11, 18, 15, tzinfo=UTC)


def test_undated_headings_are_reported_and_sections_or_code_are_not_entries() -> None:
    result = parse_later()
    assert len(result.incidents) == 10
    assert [w for w in result.warnings if "without a date" in w] == [
        f"line {line_of('### Notes')}: heading without a date skipped: "
        "'Notes for readers of this page'"
    ]
    assert all(i.start.year != 2016 for i in result.incidents)


def test_sources_name_the_page_and_line() -> None:
    outage = by_start_id(parse_later())["INC-2019-06-11-outage"]
    assert outage.sources == (f"later.md line {line_of('### 6/11/2019')}",)


@pytest.mark.parametrize(
    ("text", "kind", "causes"),
    [
        ("Email system is down", "incident", ("gallery-email-not-delivered",)),
        ("Aggregate statistics are not updating", "incident", ()),
        ("Routine maintenance on Tuesday", "maintenance", ("gallery-service-error",)),
        (
            "The gallery is having issues with latency",
            "incident",
            ("gallery-service-error", "network-unreachable"),
        ),
        (
            "Swidtag for the NuGet provider points at an old CDN",
            "incident",
            ("nuget-provider-missing",),
        ),
        ("Nothing remarkable", "incident", ()),
    ],
)
def test_classification_comes_from_the_keyword_table(
    text: str, kind: str, causes: tuple[str, ...]
) -> None:
    assert statuspage.classify(text) == (kind, causes)


def test_garbage_gives_no_incidents() -> None:
    assert statuspage.parse("<html><body>502 Bad Gateway</body></html>").incidents == ()


def test_import_of_a_page_without_entries_fails_cleanly(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Just a title\n\nno entries\n")
    res = runner.invoke(app, ["incidents", "import", str(page)])
    assert res.exit_code == 4
    assert "does not look like a status page" in res.stderr and "hint:" in res.stderr


def test_import_rich_output_lists_the_parsed_entries(tmp_path: Path) -> None:
    page = tmp_path / "later.md"
    page.write_text(LATER, encoding="utf-8")
    res = runner.invoke(app, ["incidents", "import", str(page)])
    assert res.exit_code == 0
    assert "INC-2022-06-14-down" in res.stdout and "INC-2025-04-02-had-outage" in res.stdout
    assert "year 204 read as 2025" in res.stderr


def test_localized_copies_with_anchors_and_day_first_dates_still_parse() -> None:
    page = (
        '## <a name="03272017---resolved"></a>27/03/2017 - Pages indisponibles\n\nTexte.\n\n'
        '## <a name="12152016"></a>15-12-2016 - Courriels\n\n'
        "__Summary of Impact__: Between 12/13/2016 and 12/15/2016 rien.\n"
    )
    got = [(i.start.date().isoformat(), i.title) for i in statuspage.parse(page).incidents]
    assert got == [("2016-12-13", "Courriels"), ("2017-03-27", "Pages indisponibles")]


def test_a_website_only_entry_keeps_the_id_of_the_same_day_bundled_record() -> None:
    page = (
        "### July 11th, 2024 Package statistics will not update for a while.\n"
        "Statistics are frozen during infrastructure work.\n\n__Status: Resolved__\n"
    )
    got = statuspage.parse(page, known=inc_mod.bundled()).incidents
    assert [i.id for i in got] == ["INC-2024-07-11-statsinfra"]


def test_same_day_entries_about_different_failures_do_not_share_an_id() -> None:
    page = (
        "### June 14th, 2022 The gallery has problems with sign in.\n\n"
        "### June 14th, 2022 Downloads fail with End of Central Directory errors.\n"
    )
    ids = sorted(i.id for i in statuspage.parse(page, known=inc_mod.bundled()).incidents)
    assert ids == ["INC-2022-06-14-downloads-fail-end", "INC-2022-06-14-signin"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "### May 2nd, 2022 16:41 UTC The gallery is having issues with latency.\n"
            "For the past week requests have been delayed and very slow.\n",
            "INC-2022-04-25-latency",
        ),
        (
            "### September 22nd, 2021\n"
            "From Monday, September 27th to Thursday, September 30th a migration will occur to a "
            "new cloud service.\n",
            "NOT-2021-09-27-armmigration",
        ),
    ],
)
def test_entries_posted_inside_or_before_a_known_window_keep_its_id(
    entry: str, expected: str
) -> None:
    got = statuspage.parse(entry, known=inc_mod.bundled()).incidents
    assert [i.id for i in got] == [expected]
