"""When did the failure happen: --at values and times written in logs, transcripts and tickets."""

from __future__ import annotations

import datetime as dt

import pytest

from psgdiag.errors import UsageError
from psgdiag.model import Document
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.when import find_time, parse_at

UTC = dt.UTC


def doc(text: str) -> Document:
    return normalize(RawText(text=text, encoding="text", source="<test>"))


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


# ------------------------------------------------------------------ --at


def test_at_date_alone_is_the_whole_utc_day() -> None:
    tr = parse_at("2016-07-12")
    assert tr.lo == t("2016-07-12T00:00:00")
    assert tr.hi == t("2016-07-12T23:59:59.999999")
    assert tr.origin == "--at"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-07-12T14:30:00Z", "2016-07-12T14:30:00"),
        ("2016-07-12 14:30", "2016-07-12T14:30:00"),  # no offset: UTC
        ("2016-07-12T14:30:00+02:00", "2016-07-12T12:30:00"),
        ("2016-07-12T14:30:00.250Z", "2016-07-12T14:30:00.250"),
    ],
)
def test_at_with_a_time_is_an_instant_in_utc(value: str, expected: str) -> None:
    tr = parse_at(value)
    assert tr.lo == tr.hi == t(expected)


@pytest.mark.parametrize("value", ["yesterday", "2016-13-01", "12/07/2016", "", "1970-01-01"])
def test_bad_at_values_are_usage_errors_with_a_hint(value: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_at(value)
    assert "2016-07-12" in err.value.hint


# ------------------------------------------------------------------ CI timestamps


def test_ci_timestamp_of_the_first_error_line_wins() -> None:
    d = doc(
        "2022-06-14T19:41:02.5530112Z ##[section]Starting: Install\n"
        "2022-06-14T19:42:47.2248817Z WARNING: Unable to resolve package source\n"
        "2022-06-14T19:42:47.6003395Z ##[error]Install-Package : No match was found\n"
        "2022-06-14T19:50:00.0000000Z ##[section]Finishing: Install\n"
    )
    tr = find_time(d)
    assert tr is not None and tr.origin == "ci-timestamp"
    assert tr.lo == tr.hi == t("2022-06-14T19:42:47")
    assert tr.line == 3


def test_ci_timestamps_without_an_error_use_the_last_stamp() -> None:
    d = doc(
        "2020-10-07T09:22:31Z: ==> azure-arm: Provisioning with powershell script\n"
        "2020-10-07T09:26:41Z:     azure-arm: VERBOSE: Retry downloading 'x' for '1' more times\n"
    )
    tr = find_time(d)
    assert tr is not None and tr.lo == t("2020-10-07T09:26:41") and tr.line == 2


def test_jenkins_style_bracketed_stamp_with_offset_is_converted_to_utc() -> None:
    tr = find_time(doc("[2024-05-10T15:02:41.551+02:00] Install-Module : failed\n"))
    assert tr is not None and tr.lo == t("2024-05-10T13:02:41")


# ------------------------------------------------------------------ HTTP Date header


def test_http_date_headers_in_debug_output_are_utc() -> None:
    d = doc(
        "DEBUG: Response headers: Date: Wed, 29 Jan 2026 16:07:12 GMT\n"
        "DEBUG: Response headers: Date: Wed, 29 Jan 2026 16:07:40 GMT\n"
        "Install-PSResource: Response status code does not indicate success: 500\n"
    )
    tr = find_time(d)
    assert tr is not None and tr.origin == "http-date"
    assert (tr.lo, tr.hi) == (t("2026-01-29T16:07:12"), t("2026-01-29T16:07:40"))


# ------------------------------------------------------------------ transcripts


TRANSCRIPT = """**********************
Windows PowerShell transcript start
Start time: 20250611143012
Username: BUILD01\\svc
**********************
WARNING: Unable to download from URI 'https://onegetcdn.azureedge.net/x' to ''.
**********************
Windows PowerShell transcript end
End time: 20250611150412
**********************
"""


def test_transcript_local_time_becomes_a_range_covering_every_zone() -> None:
    tr = find_time(doc(TRANSCRIPT))
    assert tr is not None and tr.origin == "transcript" and tr.line == 3
    # 14:30 local at UTC+14 is 00:30 UTC; 15:04 local at UTC-12 is 03:04 UTC next day
    assert tr.lo == t("2025-06-11T00:30:12")
    assert tr.hi == t("2025-06-12T03:04:12")


def test_transcript_end_time_far_away_does_not_stretch_the_range() -> None:
    text = TRANSCRIPT.replace("End time: 20250611150412", "End time: 20250701150412")
    tr = find_time(doc(text))
    assert tr is not None and tr.hi == t("2025-06-12T02:30:12")


def test_invalid_transcript_stamp_is_ignored() -> None:
    assert find_time(doc("Start time: 20251341143012\nInstall-Module failed\n")) is None


# ------------------------------------------------------------------ Get-Date


@pytest.mark.parametrize(
    ("line", "local"),
    [
        ("Tuesday, July 12, 2016 2:31:05 PM", "2016-07-12T14:31:05"),
        ("Tuesday, July 12, 2016 12:05:00 AM", "2016-07-12T00:05:00"),
        ("Tuesday, July 12, 2016 14:31:05", "2016-07-12T14:31:05"),
    ],
)
def test_get_date_output_is_local_time(line: str, local: str) -> None:
    tr = find_time(doc(f"PS C:\\> Get-Date\n\n{line}\n\nInstall-Module : failed\n"))
    assert tr is not None and tr.origin == "get-date"
    assert tr.lo == t(local) - dt.timedelta(hours=14)
    assert tr.hi == t(local) + dt.timedelta(hours=12)


def test_get_date_with_impossible_clock_falls_back_to_the_day() -> None:
    tr = find_time(doc("Tuesday, July 12, 2016 13:31:05 PM\n"))
    assert tr is not None and tr.origin == "prose" and tr.text == "July 12, 2016"


# ------------------------------------------------------------------ ticket prose


@pytest.mark.parametrize(
    ("sentence", "day"),
    [
        ("We used Contact Owners on December 14, 2016 and got no reply.", "2016-12-14"),
        ("On 18 February 2025 we used Report Abuse on a package page.", "2025-02-18"),
        ("It failed on Dec. 14th 2016 again.", "2016-12-14"),
        ("It failed on the 3rd of March, 2021.", "2021-03-03"),
        ("Since 2022-06-14 nothing installs.", "2022-06-14"),
        ("Opened: 30/10/2020 by the service desk", "2020-10-30"),  # day > 12: day/month/year
        ("It broke on 10/30/2020 for everyone.", "2020-10-30"),  # month/day/year
        ("Same on 07/07/2021 again.", "2021-07-07"),
    ],
)
def test_prose_dates_are_a_whole_local_day(sentence: str, day: str) -> None:
    tr = find_time(doc(f"Hello,\n\n{sentence}\n\nThanks\n"))
    assert tr is not None and tr.origin == "prose"
    assert tr.lo == t(f"{day}T00:00:00") - dt.timedelta(hours=14)
    assert tr.hi == t(f"{day}T23:59:59.999999") + dt.timedelta(hours=12)


@pytest.mark.parametrize(
    "line",
    [
        "See https://devblogs.microsoft.com/powershell/2016-07-12-notes for details",
        "Installed C:\\Builds\\2016-07-12\\module.zip",
        "PowerShellGet version 2016.07.12 is loaded",
        "February 30, 2025 is not a day",
        "Pipelines failed on 04/05/2022 again",  # 4 May or 5 April: the order is unknown
        "Module 1.2.2020 is the latest",
    ],
)
def test_dates_in_urls_paths_versions_or_impossible_days_are_not_failure_times(line: str) -> None:
    assert find_time(doc(line + "\n")) is None


def test_the_earliest_date_on_a_line_is_taken() -> None:
    tr = find_time(doc("On 14 December 2016, after the December 20, 2016 update\n"))
    assert tr is not None and tr.text == "14 December 2016"


def test_ci_stamp_beats_prose_and_transcript() -> None:
    text = "2022-06-14T19:42:47Z ##[error]Install failed on December 14, 2016\n"
    tr = find_time(doc(text))
    assert tr is not None and tr.origin == "ci-timestamp"


@pytest.mark.parametrize(
    "line",
    [
        "PublishedDate              : 2019-03-01 10:00:00",
        "Version 2.2.5 was released on September 9, 2020.",
        "LastWriteTime: 14 December 2016",
    ],
)
def test_dates_that_label_a_package_or_file_are_not_failure_times(line: str) -> None:
    assert find_time(doc(line + "\n")) is None


def test_a_labelled_date_does_not_hide_the_failure_date_after_it() -> None:
    tr = find_time(doc("PublishedDate : 2019-03-01\nIt failed for us on 2019-06-11.\n"))
    assert tr is not None and tr.text == "2019-06-11"


# ------------------------------------------------------------------ localized output


@pytest.mark.parametrize("label", ["Start time", "Startzeit", "Heure de début ", "開始時刻"])
def test_localized_transcript_headers_are_read(label: str) -> None:
    tr = find_time(doc(f"**********************\n{label}: 20250611143012\nWARNING: x\n"))
    assert tr is not None and tr.origin == "transcript"
    assert tr.lo == t("2025-06-11T00:30:12")


@pytest.mark.parametrize(
    ("sentence", "day"),
    [
        ("Seit dem 14. Dezember 2016 kommt keine Antwort.", "2016-12-14"),
        ("Depuis le 14 décembre 2016, aucune réponse.", "2016-12-14"),
        ("Desde el 3 de marzo de 2021 falla.", "2021-03-03"),
        ("Desde 14 de dezembro de 2016 sem resposta.", "2016-12-14"),
        ("Le 1er février 2025 ça a échoué.", "2025-02-01"),
    ],
)
def test_localized_prose_dates(sentence: str, day: str) -> None:
    tr = find_time(doc(sentence + "\n"))
    assert tr is not None and tr.origin == "prose"
    assert tr.lo == t(f"{day}T00:00:00") - dt.timedelta(hours=14)


@pytest.mark.parametrize(
    ("line", "local"),
    [
        ("12 July 2016 14:31:05", "2016-07-12T14:31:05"),
        ("Dienstag, 12. Juli 2016 14:31:05", "2016-07-12T14:31:05"),
        ("mardi 12 juillet 2016 14:31:05", "2016-07-12T14:31:05"),
        ("It broke on December 14, 2016 at 9:05 PM.", "2016-12-14T21:05:00"),
    ],
)
def test_a_written_date_with_a_clock_time_is_a_local_instant(line: str, local: str) -> None:
    tr = find_time(doc(line + "\n"))
    assert tr is not None and tr.origin == "get-date"
    assert tr.lo == t(local) - dt.timedelta(hours=14)
    assert tr.hi == t(local) + dt.timedelta(hours=12)


def test_line_start_stamps_without_a_zone_are_local_times() -> None:
    d = doc(
        "2024-05-10 13:02:41,551 INFO Installing modules\n"
        "2024-05-10 13:02:55,118 ERROR Install-Module : Unable to resolve package source\n"
    )
    tr = find_time(d)
    assert tr is not None and tr.origin == "log-timestamp" and tr.line == 2
    assert tr.lo == t("2024-05-10T13:02:55") - dt.timedelta(hours=14)
    assert tr.hi == t("2024-05-10T13:02:55") + dt.timedelta(hours=12)


def test_zoned_stamps_win_over_unzoned_ones() -> None:
    d = doc("2024-05-10 13:02:41 local line\n2024-05-10T11:02:41Z ##[error]failed\n")
    tr = find_time(d)
    assert tr is not None and tr.origin == "ci-timestamp" and tr.lo == t("2024-05-10T11:02:41")


def test_numeric_date_with_a_clock_is_a_local_instant() -> None:
    tr = find_time(doc("Opened: 30/10/2020 14:20 CET\n"))
    assert tr is not None and tr.text == "30/10/2020"
    assert tr.lo == t("2020-10-30T14:20:00") - dt.timedelta(hours=14)
    assert tr.hi == t("2020-10-30T14:20:00") + dt.timedelta(hours=12)


@pytest.mark.parametrize(
    ("line", "instant"),
    [
        ("Task queued:    Thursday, 04 April 2024 4:41:02 AM +00:00", "2024-04-04T04:41:02"),
        ("It failed on 12 July 2016 14:31 UTC.", "2016-07-12T14:31:00"),
        ("It failed on 12 July 2016 14:31 GMT+2.", "2016-07-12T12:31:00"),
        ("It failed on 12 July 2016 14:31 -05:00 again", "2016-07-12T19:31:00"),
    ],
)
def test_a_written_zone_makes_the_prose_time_exact(line: str, instant: str) -> None:
    tr = find_time(doc(line + "\n"))
    assert tr is not None and tr.lo == tr.hi == t(instant)


def test_a_zoned_instant_inside_a_line_dates_the_failure() -> None:
    tr = find_time(
        doc(
            "Install-Package: Package 'Contoso' failed to be installed because: End of Central "
            "Directory record could not be found.\n"
            "<Message>Public access is not permitted. RequestId:0f1e Time:2026-02-02T19:59:07.0126183Z"
            "</Message>\n"
        )
    )
    assert tr is not None and tr.lo == tr.hi == t("2026-02-02T19:59:07Z")


def test_an_instant_labelled_as_a_file_or_package_date_is_not_the_failure_time() -> None:
    assert find_time(doc('{"published": "2019-05-01T10:00:00Z", "name": "Az"}\n')) is None
    assert find_time(doc("LastWriteTime : 2021-03-04T05:06:07+01:00\n")) is None


def test_an_approximate_incident_start_reaches_back_half_an_hour() -> None:
    from psgdiag.incidents.history import at_time
    from psgdiag.model import Incident, TimeRange

    approx = Incident(
        "INC-X", "x", t("2026-02-02T20:00:00Z"), t("2026-02-02T21:00:00Z"), "incident", "P",
        ("corrupt-package-download",), certainty="A/C",
    )  # fmt: skip
    exact = Incident(
        "INC-Y", "y", t("2026-02-02T20:00:00Z"), t("2026-02-02T21:00:00Z"), "incident", "P",
        ("corrupt-package-download",), certainty="C",
    )  # fmt: skip
    when = TimeRange(t("2026-02-02T19:59:07Z"), t("2026-02-02T19:59:07Z"), "instant", 2, "")
    assert [i.id for i in at_time([approx, exact], when)] == ["INC-X"]
