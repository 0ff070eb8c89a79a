"""Dates written in prose in several languages, and relative days counted from an anchor."""

from __future__ import annotations

import datetime as dt

import pytest

from psgdiag.model import Document
from psgdiag.pipeline import datewords
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.when import find_time

UTC = dt.UTC


def doc(text: str) -> Document:
    return normalize(RawText(text=text, encoding="text", source="<test>"))


@pytest.mark.parametrize(
    "text",
    [
        "Das Problem trat am 12. Juli 2016 auf, Install-Module brach ab.",
        "L'installation a échoué le 12 juillet 2016 sur le serveur.",
        "La instalación falló el 12 de julio de 2016 en el servidor.",
        "A instalação falhou em 12 de julho de 2016.",
        "L'installazione è fallita il 12 luglio 2016.",
        "2016年7月12日にインストールが失敗しました。",
        "安装于2016年7月12日失败。",
        "It failed on July 12th, 2016 on two machines.",
    ],
)
def test_a_written_date_in_several_languages_is_that_local_day(text: str) -> None:
    tr = find_time(doc(text))
    assert tr is not None and tr.origin == "prose"
    # the whole local day 2016-07-12, widened for every UTC offset
    assert tr.lo == dt.datetime(2016, 7, 11, 10, tzinfo=UTC)
    assert tr.hi.date() == dt.date(2016, 7, 13)


def test_a_cjk_date_with_a_clock_is_an_instant() -> None:
    tr = find_time(doc("発生日時: 2016年7月12日 14:31 UTC"))
    assert tr is not None and tr.lo == tr.hi == dt.datetime(2016, 7, 12, 14, 31, tzinfo=UTC)


SENT = dt.datetime(2016, 7, 13, 9, 14, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        # the sender's evening of 2016-07-12 (UTC+2): 17:00-24:00 local = 15:00-22:00 UTC
        ("Install-Module failed yesterday evening.", (2016, 7, 12, 15), (2016, 7, 12, 22)),
        ("Gestern Abend schlug Install-Module fehl.", (2016, 7, 12, 15), (2016, 7, 12, 22)),
        ("Hier soir, Install-Module a échoué.", (2016, 7, 12, 15), (2016, 7, 12, 22)),
        ("昨日の夜、インストールに失敗しました。", (2016, 7, 12, 15), (2016, 7, 12, 22)),
        # "this morning": 05:00 local until the mail was sent at 09:14 local
        ("This morning Install-Module broke.", (2016, 7, 13, 3), (2016, 7, 13, 7, 14)),
    ],
)
def test_a_relative_phrase_counts_from_the_send_date(
    text: str, lo: tuple[int, ...], hi: tuple[int, ...]
) -> None:
    tr = find_time(doc(text), anchor=SENT)
    assert tr is not None and tr.origin == "relative"
    assert tr.lo == dt.datetime(*lo, tzinfo=UTC)
    assert abs(tr.hi - dt.datetime(*hi, tzinfo=UTC)) < dt.timedelta(seconds=1)


def test_a_relative_phrase_without_an_anchor_says_nothing() -> None:
    assert find_time(doc("Install-Module failed yesterday evening.")) is None


def test_a_pasted_mail_header_is_an_anchor() -> None:
    text = (
        "From: Jane Doe\nSent: Wednesday, July 13, 2016 9:14 AM\nSubject: install fails\n\n"
        "Yesterday evening Install-Module stopped with an error.\n"
    )
    tr = find_time(doc(text))
    assert tr is not None and tr.origin == "relative" and tr.line == 5
    # the header has no zone: the local evening of 2016-07-12, widened for every offset
    assert tr.lo == dt.datetime(2016, 7, 12, 3, tzinfo=UTC)


def test_words_inside_other_words_are_not_relative_phrases() -> None:
    assert find_time(doc("Set-Todayness failed; see yesterdays.log"), anchor=SENT) is None


def test_a_written_date_wins_over_a_relative_phrase() -> None:
    tr = find_time(doc("Yesterday (July 10, 2016) it failed."), anchor=SENT)
    assert tr is not None and tr.origin == "prose" and tr.hi.date() == dt.date(2016, 7, 11)


def test_month_names_and_relative_words_are_data() -> None:
    assert datewords.months()["juillet"] == 7 and datewords.months()["julio"] == 7
    assert datewords.months(english_only=True).get("juli") is None
    phrases = [r.phrase for r in datewords.relatives()]
    assert phrases.index("yesterday evening") < phrases.index("yesterday")  # longest first
