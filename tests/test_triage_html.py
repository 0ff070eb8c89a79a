"""The HTML triage report as a support lead uses it, in headless Chromium (Playwright).

Sorting (confidence as a number, time as a date, tickets without one last), the filters by
cause, side, incident and cluster, the search box and the expandable cards are clicked and typed
into, and the DOM is checked after each step; with JavaScript off, the list is a plain table
with every card shown. The expected orders and sets come from the triage result itself, so the
test follows the knowledge base rather than fixing causes.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from psgdiag.triage.batch import TriageItem, TriageResult, run
from psgdiag.triage.collect import collect
from psgdiag.triage.html import csp, render_html, script
from psgdiag.triage.report import cause_label, iso
from tests.browser import browser_fixture
from tests.conftest import CASES

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "triage"
UNKNOWN = (
    "Install-PSResource: Package '{module}' could not be installed: the feed 'ContosoFeed' "
    "returned page {page} twice (ContinuationToken '5f0c3a2e-8d41-4b7e-9a6f-2c1d0e9b8a7f').\n"
)
VISIBLE = """els => els.filter(e => !e.hidden).map(e => e.querySelector('tr.ticket th')
    .getAttribute('data-value'))"""


browser = browser_fixture("the triage report")


def _first_log(cause: str) -> bytes:
    return sorted((CASES / cause).glob("*.log"))[0].read_bytes()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TriageResult]:
    """A queue of eight tickets: dated and undated, causes on several sides, a group, junk."""
    root = tmp_path_factory.mktemp("queue")
    files = {
        "t01-tls.log": b"Reported on March 3, 2024.\n" + _first_log("tls12-required"),
        "t02-notfound.log": b"Reported on January 10, 2023.\n" + _first_log("module-not-found"),
        "t03-untrusted.log": _first_log("untrusted-repository"),
        "t04-outage.log": (FIXTURES / "b-017.log").read_bytes(),
        "t05-feed.log": UNKNOWN.format(module="Contoso.Tools", page=3).encode(),
        "t06-feed.log": UNKNOWN.format(module="Zyxwv.Feed", page=17).encode(),
        "t07-shot.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "t08-auth.log": b"Reported on May 5, 2025.\n" + _first_log("repository-auth-failed"),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    result = run(collect([str(root)]), jobs=1, redact=True)
    out = io.StringIO()
    render_html(result, out)
    page = root.parent / "report.html"
    page.write_text(out.getvalue(), encoding="utf-8")
    return page, result


def _open(browser: Browser, page_file: Path, *, scripts: bool = True) -> Page:
    context = browser.new_context(java_script_enabled=scripts)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_file.as_uri())
    assert errors == []
    return page


def _visible(page: Page) -> list[str]:
    shown: list[str] = page.eval_on_selector_all("tbody.ticket-group", VISIBLE)
    return shown


def _value(item: TriageItem, key: str) -> str | float | None:
    if key == "confidence":
        return item.confidence if item.cause else None
    return iso(item.time)


def _sorted_paths(result: TriageResult, key: str, *, reverse: bool = False) -> list[str]:
    """Paths in the order the report must show: by value, ties in input order, empties last."""
    have = [it for it in result.items if _value(it, key) is not None]
    have.sort(key=lambda it: _value(it, key) or 0, reverse=reverse)  # stable: ties keep order
    return [it.path for it in have] + [it.path for it in result.items if _value(it, key) is None]


def test_the_report_is_one_file_whose_only_script_is_its_own(
    report: tuple[Path, TriageResult],
) -> None:
    html = report[0].read_text("utf-8")
    assert html.count("<script") == 1 and f"<script>{script()}</script>" in html
    assert f'content="{csp()}"' in html and "default-src 'none'" in csp()
    assert re.search(r"<(?:link|img|iframe)\b|\bsrc=|https?://[^\s\"<]*\.js", html) is None


def test_sort_by_confidence_and_by_time(
    browser: Browser, report: tuple[Path, TriageResult]
) -> None:
    page_file, result = report
    page = _open(browser, page_file)
    assert _visible(page) == [it.path for it in result.items]  # input order at first
    header = page.locator("#ticket-list thead th", has_text="confidence")
    header.locator("button.sort").click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert _visible(page) == _sorted_paths(result, "confidence")
    header.locator("button.sort").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert _visible(page) == _sorted_paths(result, "confidence", reverse=True)
    confidences = page.eval_on_selector_all(
        "tbody.ticket-group tr.ticket td.n", "els => els.map(e => e.getAttribute('data-value'))"
    )
    numbers = [float(v) for v in confidences if v]
    assert numbers == sorted(numbers, reverse=True) and confidences[-1] == ""
    time = page.locator("#ticket-list thead th", has_text="time")
    time.locator("button.sort").click()
    shown = _visible(page)
    assert shown == _sorted_paths(result, "time")
    dated = [it for it in result.items if it.time is not None]
    assert len(dated) >= 3 and set(shown[: len(dated)]) == {it.path for it in dated}
    assert header.get_attribute("aria-sort") == "none"
    time.locator("button.sort").click()
    assert _visible(page) == _sorted_paths(result, "time", reverse=True)  # undated still last
    page.context.close()


def _choose(page: Page, key: str, value: str) -> list[str]:
    page.select_option(f"#filter-{key}", value)
    return _visible(page)


def test_filters_by_cause_side_incident_and_cluster(
    browser: Browser, report: tuple[Path, TriageResult]
) -> None:
    page_file, result = report
    items = result.items
    page = _open(browser, page_file)
    cause = next(it.cause for it in items if it.cause)
    assert cause is not None
    assert _choose(page, "cause", cause) == [it.path for it in items if it.cause == cause]
    assert page.inner_text("#ticket-count").startswith(f"Showing {len(_visible(page))} of 8")
    _choose(page, "cause", "")
    side = next(it.side for it in items if it.side)
    assert side is not None
    assert _choose(page, "side", side) == [it.path for it in items if it.side == side]
    _choose(page, "side", "")
    incident = next(it.incident for it in items if it.incident)
    assert incident is not None
    assert _choose(page, "incident", incident) == [it.path for it in items if it.incident]
    none = _choose(page, "incident", "\u2205")
    assert none == [it.path for it in items if not it.incident]
    _choose(page, "incident", "")
    cluster = next(it.cluster for it in items if it.cluster)
    assert cluster is not None
    grouped = [it.path for it in items if it.cluster == cluster]
    assert len(grouped) == 2 and _choose(page, "cluster", cluster) == grouped
    assert _choose(page, "cause", "(binary)") == []  # filters combine
    _choose(page, "cluster", "")
    assert _visible(page) == [it.path for it in items if cause_label(it) == "(binary)"] != []
    page.context.close()


def test_search_matches_the_whole_ticket_including_its_card(
    browser: Browser, report: tuple[Path, TriageResult]
) -> None:
    page_file, result = report
    page = _open(browser, page_file)
    page.fill("#ticket-search", "zyxwv.feed")  # a module named only in t06's log line
    assert _visible(page) == [it.path for it in result.items if "t06" in it.path]
    page.fill("#ticket-search", "")
    assert len(_visible(page)) == 8
    cause = next(it.cause for it in result.items if it.cards)
    assert cause is not None
    page.fill("#ticket-search", cause.upper())  # case does not matter
    assert _visible(page) == [
        it.path
        for it in result.items
        if any(c.cause == cause or cause in c.consequences for c in it.cards)
    ]
    page.fill("#ticket-search", "no-such-words-anywhere")
    assert _visible(page) == [] and page.inner_text("#ticket-count") == "Showing 0 of 8 tickets"
    page.context.close()


def test_expand_shows_the_full_card_with_numbered_evidence_and_commands(
    browser: Browser, report: tuple[Path, TriageResult]
) -> None:
    page_file, result = report
    page = _open(browser, page_file)
    index, item = next((i, it) for i, it in enumerate(result.items, 1) if it.cards)
    card_row = page.locator(f"#card-row-{index}")
    assert card_row.is_hidden()
    button = page.locator("tbody.ticket-group").nth(index - 1).locator("button.expand")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    assert card_row.is_visible() and button.get_attribute("aria-expanded") == "true"
    card = card_row.locator(f'article.card[data-cause="{item.cause}"]')
    assert card.count() == 1
    lines = card.locator("ul.evidence li[data-line]")
    numbers = [int(li.get_attribute("data-line") or 0) for li in lines.all()]
    assert numbers == [no for no, _ in item.cards[0].evidence if no]
    assert all(
        li.inner_text().startswith(f"L{n}") for li, n in zip(lines.all(), numbers, strict=True)
    )
    commands = [c.inner_text() for c in card.locator("ol.remedies pre code").all()]
    assert commands == [r.command for r in item.cards[0].remedies if r.command]
    button.click()
    assert card_row.is_hidden()
    page.context.close()


def test_without_javascript_it_is_a_plain_table_with_every_card_shown(
    browser: Browser, report: tuple[Path, TriageResult]
) -> None:
    page_file, result = report
    page = _open(browser, page_file, scripts=False)
    assert page.locator("#ticket-tools").is_hidden()
    assert page.locator("button.expand").count() == 0
    rows = page.locator("tr.card-row")
    assert rows.count() == len(result.items)
    assert all(row.is_visible() for row in rows.all())
    cards = sum(len(it.cards) for it in result.items)
    assert page.locator("tr.card-row article.card").count() == cards > 0
    page.context.close()


def test_the_chart_stays_readable_when_most_tickets_have_no_written_time() -> None:
    import datetime as dt

    from psgdiag.triage.chart import BOTTOM, HEIGHT, TOP, svg

    when = dt.datetime(2024, 3, 3, 11, tzinfo=dt.UTC)
    dated = [
        TriageItem(f"d{i}.log", "diagnosed", cause="tls12-required", time=when) for i in range(3)
    ]
    undated = [TriageItem(f"u{i}.log", "unrecognised") for i in range(200)]
    items = (*dated, *undated)
    labels = ["tls12-required", "(unrecognised)"]
    chart = svg(items, labels, (), {i: cause_label(it) for i, it in enumerate(items)})
    bars = re.findall(
        r'<rect class="bar" data-cause="[^"]+" data-count="(\d+)"[^>]* height="([\d.]+)"', chart
    )
    assert bars == [("3", f"{HEIGHT - TOP - BOTTOM:.1f}")]  # the dated bar uses the whole axis
    assert '<g class="undated" data-count="200" data-scale="own">' in chart
    assert "(own scale)" in chart
    few = (*dated, *undated[:2])
    chart = svg(few, labels, (), {i: cause_label(it) for i, it in enumerate(few)})
    assert 'data-count="2">' in chart and "own scale" not in chart  # same scale when it fits
