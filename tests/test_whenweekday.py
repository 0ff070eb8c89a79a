"""A day and month written without a year, dated by its weekday inside the paste's era."""

from __future__ import annotations

import datetime as dt

from psgdiag.model import Era
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.whenweekday import weekday_time
from tests.test_era import facts_of

D = dt.date
TODAY = D(2026, 12, 7)


def era(since: dt.date, offered_until: dt.date | None = None) -> Era:
    return Era(since, None, offered_until, ())


def when(text: str, the_era: Era) -> tuple[dt.date, str] | None:
    doc = normalize(RawText(text=text, encoding="text", source="<t>"))
    tr = weekday_time(doc, the_era, today=TODAY)
    if tr is None:
        return None
    # The local day of unknown zone: its UTC range runs from 14 h before to 12 h after it.
    return (tr.lo + dt.timedelta(hours=14)).date(), tr.text


def test_one_year_in_the_era_fits_the_weekday() -> None:
    # 1 September was a Thursday in 2016, 2022 and 2033; PowerShell 7.2 came out in late 2021.
    got = when("Since this morning (Thursday 1 September) nothing installs.", era(D(2021, 12, 14)))
    assert got == (D(2022, 9, 1), "Thursday 1 September")


def test_month_first_and_other_languages() -> None:
    # 3 March was a Tuesday in 2020 and 2026: the era's end leaves 2020.
    en = when("Fails since Tue, March 3rd.", era(D(2019, 1, 1), D(2022, 1, 1)))
    assert en is not None and en[0] == D(2020, 3, 3)
    de = when("Seit Donnerstag, 1. September geht nichts mehr.", era(D(2021, 12, 14)))
    assert de is not None and de[0] == D(2022, 9, 1)


def test_several_fitting_years_say_nothing() -> None:
    # From 2015 on, Thursday 1 September is both 2016 and 2022.
    assert when("Since Thursday 1 September it fails.", era(D(2015, 1, 1))) is None


def test_a_weekday_that_never_fits_says_nothing() -> None:
    assert when("Since Friday 1 September it fails.", era(D(2021, 12, 14), D(2023, 1, 1))) is None


def test_a_date_with_its_year_is_not_read_here() -> None:
    assert when("Thursday 1 September 2022 it failed.", era(D(2021, 12, 14))) is None


def test_a_ticket_naming_its_powershell_gets_an_era() -> None:
    values = facts_of("PowerShell 7.2.1 on Windows 10 Enterprise 21H2 (10.0.19044)").values
    assert [v.value for v in values["ps_version"]] == ["7.2.1"]
    assert [v.value for v in values["windows_build"]] == ["19044"]
