"""Status entries as the page writes them: heading ranges, times in the prose, the Status line.

The real page is a copy of PowerShell/PowerShellGallery psgallery_status.md as of its commit
b4f478e (2026-02-06, the February 2026 page: 42 dated entries), kept as data in tests/data.
"""

from __future__ import annotations

import datetime as dt

import pytest

from psgdiag.incidents import history as inc_mod
from psgdiag.incidents import statusdates as sd
from psgdiag.incidents import statuspage, statusprose
from tests.conftest import ROOT

UTC = dt.UTC
REAL = ROOT / "tests" / "data" / "psgallery_status-2026-02.md"
SEED = ROOT / "tests" / "data" / "psgallery_status.md"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def real() -> statuspage.ParseResult:
    return statuspage.parse(REAL.read_text("utf-8"), source="real", known=inc_mod.bundled())


def by_id(result: statuspage.ParseResult) -> dict[str, statuspage.Incident]:
    return {i.id: i for i in result.incidents}


# ------------------------------------------------------------------ the real February 2026 page


def test_every_dated_heading_of_the_real_page_is_imported(real: statuspage.ParseResult) -> None:
    headings = [ln for ln in REAL.read_text("utf-8").splitlines() if ln.startswith("### ")]
    assert len(headings) == 42
    assert len(real.incidents) == 42
    assert not [w for w in real.warnings if "skipped" in w]
    # the one repair the page needs: 03/22/2020 is March 2021 (between 10/30/2020 and 06/03/2021)
    assert real.warnings == (
        "line 158: year 2020 read as 2021 "
        "('03/22/2020 02:30 UTC The PowerShell Gallery was unable via HTTPS.')",
    )


def test_every_entry_has_an_end_or_is_explicitly_open(real: statuspage.ParseResult) -> None:
    for inc in real.incidents:
        assert (
            inc.end is not None
            or inc.end_assumed is not None
            or inc.state
            in (
                "ongoing",
                "mitigating",
            )
        ), inc.id
        if inc.end is None and inc.end_assumed is not None:
            assert inc.end_reason, inc.id  # an assumed end says why


def test_a_heading_range_is_the_window(real: statuspage.ParseResult) -> None:
    azcr = by_id(real)["INC-2026-01-26-azcr500"]
    assert azcr.start == utc(2026, 1, 26)
    assert azcr.end == sd.day_end(dt.date(2026, 2, 6))
    assert azcr.state == "resolved" and azcr.certainty == "C/C"


def test_times_in_the_prose_give_start_and_end(real: statuspage.ParseResult) -> None:
    got = by_id(real)
    cdn = got["INC-2026-02-02-cdn"]  # "Around 08:00pm UTC ... resolved as of 09:00pm UTC"
    assert (cdn.start, cdn.end) == (utc(2026, 2, 2, 20), utc(2026, 2, 2, 21))
    assert cdn.certainty == "A/C" and cdn.causes == ("corrupt-package-download",)
    sql = got["INC-2024-04-04-sql"]  # "began roughly 00:53 UTC on April 4, and resolved around"
    assert (sql.start, sql.end) == (utc(2024, 4, 4, 0, 53), utc(2024, 4, 4, 4, 7))
    maint = got["NOT-2025-01-28-maint"]  # "on Tuesday Jan 28 from 11am-1pm PST"
    assert (maint.start, maint.end) == (utc(2025, 1, 28, 19), utc(2025, 1, 28, 21))
    # "beginning approximately 5pm (PDT) 10/10/17 ... offline for 2 hours starting
    # approximately 10pm (PDT) ... restored shortly before midnight 10/10/2017"
    latency = got["INC-2017-10-10-latency"]
    assert (latency.start, latency.end) == (utc(2017, 10, 11), utc(2017, 10, 11, 7))
    # "on Monday, October 19th at 9am and will last 10 minutes" (no zone: the team's, PDT)
    db = got["NOT-2020-10-19-dbmaint"]
    assert (db.start, db.end) == (utc(2020, 10, 19, 16), utc(2020, 10, 19, 16, 10))
    assert db.certainty == "A/A"
    stats = got["INC-2024-05-13-stats"]  # "resolved around 12:00:00 PST": PST as written
    assert stats.end == utc(2024, 5, 13, 20)


def test_an_end_followed_by_a_new_start_did_not_hold(real: statuspage.ParseResult) -> None:
    # "believed this issue to be resolved at 16:03 UTC, but since 20:00 UTC availability ..."
    cdn = by_id(real)["INC-2021-07-06-cdn"]
    assert cdn.start == utc(2021, 7, 6, 8, 30)
    assert cdn.end is None and cdn.state == "resolved" and cdn.end_assumed is not None


def test_a_look_back_starts_the_entry_before_its_heading(real: statuspage.ParseResult) -> None:
    latency = by_id(real)["INC-2022-04-25-latency"]  # May 2nd 16:41 UTC, "For the past week"
    assert latency.start == utc(2022, 4, 25, 16, 41) and latency.certainty.startswith("A")


def test_the_status_line_is_the_state_of_the_window(real: statuspage.ParseResult) -> None:
    got = by_id(real)
    search = got["INC-2025-11-12-search"]
    assert search.state == "ongoing" and search.end is None and search.end_assumed is None
    slow = got["INC-2025-04-25-slow"]  # "This issue is being mitigated, if you are still ..."
    assert slow.state == "mitigating" and slow.end is None and slow.end_assumed is None
    afd = got["INC-2025-10-29-afd"]  # resolved, no time written: the next day, assumed
    assert afd.state == "resolved" and afd.end is None
    assert afd.end_assumed == utc(2025, 10, 30, 23, 59, 59)
    stats = got["INC-2024-01-05-stats"]  # no Status line at all: a week, never open-ended
    assert stats.state == "" and stats.end_assumed == utc(2024, 1, 12)


def test_pacific_time_uses_the_zone_database(real: statuspage.ParseResult) -> None:
    outage = by_id(real)["INC-2019-06-11-outage"]  # "between 8:15 AM and 11:15 AM Pacific Time"
    assert (outage.start, outage.end) == (utc(2019, 6, 11, 15, 15), utc(2019, 6, 11, 18, 15))
    winter = sd.to_utc(dt.datetime(2019, 1, 11, 8, 15), "Pacific Time")
    assert winter == utc(2019, 1, 11, 16, 15)


def test_the_seed_page_still_yields_exactly_its_four() -> None:
    result = statuspage.parse(SEED.read_text("utf-8"), known=inc_mod.bundled())
    assert [i.id for i in result.incidents] == [
        "INC-2016-05-17-cdn",
        "INC-2016-07-11-cdn",
        "INC-2016-08-05-mail",
        "INC-2016-12-13-smtp",
    ]
    assert all(i.end is not None and i.certainty == "C/C" for i in result.incidents)


# ------------------------------------------------------------------ headings


@pytest.mark.parametrize(
    ("heading", "start", "end", "time", "title"),
    [
        ("Jan 26th - Feb 6th 2026, Issues", "2026-01-26", "2026-02-06", None, "Issues"),
        (
            "5/17/2016 - 5/19/2016 Download Items Failed",
            "2016-05-17",
            "2016-05-19",
            None,
            "Download Items Failed",
        ),
        ("Dec 30th - Jan 2nd 2026: Slow", "2025-12-30", "2026-01-02", None, "Slow"),
        ("January 26th - 28th, 2026 Search", "2026-01-26", "2026-01-28", None, "Search"),
        ("7/13/2016 - Download Items Failed", "2016-07-13", None, None, "Download Items Failed"),
        ("2 February 2026 - CDN", "2026-02-02", None, None, "CDN"),
        ("February 2nd 2026 20:00 UTC CDN", "2026-02-02", None, "2026-02-02T20:00", "CDN"),
        ("May 2nd, 2022 16:41 UTC Latency", "2022-05-02", None, "2022-05-02T16:41", "Latency"),
        ("June 14nd, 2022 Down", "2022-06-14", None, None, "Down"),
        ("8/10/2016 - Resolved: Mail", "2016-08-10", None, None, "Mail"),
        ("March 3rd, Slow downloads", "0001-03-03", None, None, "Slow downloads"),
    ],
)
def test_heading_dates(
    heading: str, start: str, end: str | None, time: str | None, title: str
) -> None:
    got = sd.heading_date(heading)
    assert got is not None
    assert got.day.isoformat() == start
    assert (got.end_day.isoformat() if got.end_day else None) == end
    assert (got.time.strftime("%Y-%m-%dT%H:%M") if got.time else None) == time
    assert got.title == title


def test_a_heading_without_a_year_takes_it_from_its_neighbours() -> None:
    page = (
        "### April 2nd 2025, Later entry\n__Status: Resolved__\n\n"
        "### March 3rd, Slow downloads\n__Status: Resolved__\n\n"
        "### January 13th 2025, Earlier entry\n__Status: Resolved__\n"
    )
    result = statuspage.parse(page)
    assert [i.start.date().isoformat() for i in result.incidents] == [
        "2025-01-13",
        "2025-03-03",
        "2025-04-02",
    ]
    assert any("year 1 read as 2025" in w for w in result.warnings)


# ------------------------------------------------------------------ prose forms


@pytest.mark.parametrize(
    ("prose", "start", "end"),
    [
        ("Since about 08:30 UTC downloads are slow.", "2021-07-06T08:30", None),
        ("Between 7/11/2016 and 7/13/2016, downloads failed.", "2021-07-11T00:00", None),
        ("The site was down from 10:00 to 11:30 UTC.", "2021-07-06T10:00", "2021-07-06T11:30"),
        (
            "Outage began at 23:30 UTC and was resolved at 01:15 UTC.",
            "2021-07-06T23:30",
            "2021-07-07T01:15",
        ),
        (
            "Maintenance will last 2 hours starting at 18:00 UTC.",
            "2021-07-06T18:00",
            "2021-07-06T20:00",
        ),
        ("Users reported failures. Resolved as of 9pm UTC.", None, "2021-07-06T21:00"),
        ("Over the past couple months searches were flaky.", "2021-05-07T00:00", None),
        ("Nothing dated here, 20-80% availability, PSModule.psm1:1375 char:21.", None, None),
    ],
)
def test_prose_forms(prose: str, start: str | None, end: str | None) -> None:
    got = statusprose.window(prose, dt.date(2021, 7, 6))
    fmt = "%Y-%m-%dT%H:%M"
    if "7/11/2016" in prose:  # an explicit year: the range keeps it
        assert got.start == utc(2016, 7, 11) and got.end == sd.day_end(dt.date(2016, 7, 13))
        return
    assert (got.start.strftime(fmt) if got.start else None) == start
    assert (got.end.strftime(fmt) if got.end else None) == end


def test_prose_scanning_is_linear_on_a_hostile_body() -> None:
    import time

    body = ("between 1:00 and " * 20_000) + ("5pm " * 20_000)
    began = time.perf_counter()
    statusprose.window(body, dt.date(2021, 7, 6))
    assert time.perf_counter() - began < 5.0
