"""Property tests for the parsers of what servers send: random status pages, nuspecs, feeds.

Each input must be parsed within a time bound, raise nothing but the documented errors, and (for
a status page) give incidents that the cache writes and reads back unchanged.
"""

from __future__ import annotations

import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psgdiag.errors import InputError
from psgdiag.incidents import store
from psgdiag.incidents import sync as incident_sync
from psgdiag.probe.atom import AtomReader, TooMany, usable_version
from psgdiag.probe.feed import version_key
from psgdiag.probe.zipcheck import element

SETTINGS = settings(
    deadline=None,  # a loaded 2-core machine: the bound is asserted per input instead
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BOUND = 2.0  # seconds per input, far above the few milliseconds a linear parse takes

PAGE_BITS = [
    "## 7/13/2016 - ", "### May 2nd, 2022 16:41 UTC ", "### 06/03/2021 02:28 UTC ", "## ",
    "### March 14th 2025, ", "## 12/31/9999 - ", "## 1/1/0001 - ", "__Status: ", "Resolved",
    "Ongoing", "__Summary of Impact__", "__Root Cause__: ", "Between 7/11/2016 and 7/13/2016",
    "from 11am-1pm PST", "began roughly 00:53 UTC", "resolved around 04:07 UTC", "Since about ",
    "[", "]", "(", ")", "](", "<", ">", "#", "__", "```", "\t", "\x00", "\x1b[2J", "\x7f", "\u2028",
    "\u00a0", "é", "download", "corrupt", "outage", "sign in", ":", "-", "1", "31", "2016",
]  # fmt: skip
spaces = st.integers(0, 3000).map(lambda n: " " * n)
runs = st.sampled_from(["[", "(", "<", "#", "_", ":", "1"]).flatmap(
    lambda c: st.integers(0, 3000).map(lambda n: c * n)
)
piece = st.one_of(st.sampled_from(PAGE_BITS), spaces, runs, st.text(max_size=20))
line = st.lists(piece, min_size=0, max_size=6).map("".join)
page = st.lists(line, min_size=1, max_size=40).map("\n".join)


@settings(SETTINGS, max_examples=25)
@given(page)
def test_any_status_page_parses_in_bounded_time_and_caches_cleanly(text: str) -> None:
    started = time.monotonic()
    try:
        parsed = incident_sync.parse_page(text, "https://user:pw@status.example/page.md")
    except InputError:
        parsed = None
    assert time.monotonic() - started < BOUND
    if parsed is None:
        return
    meta = {"etag": text[:50]}
    headings = dict(zip((i.id for i in parsed.incidents), parsed.keys, strict=True))
    dumped = store.dump_cache(parsed.incidents, meta, headings)
    back = store.parse_cache(dumped, "property")
    assert back.incidents == parsed.incidents
    assert dict(back.meta) == meta
    assert all("pw@" not in s for i in parsed.incidents for s in i.sources)


NUSPEC_BITS = ["<id>", "</id>", "<", ">", "</", "id", "Az.Accounts", "\n", "<version>"]
nuspec = st.lists(
    st.one_of(st.sampled_from(NUSPEC_BITS), spaces, st.text(max_size=8)), max_size=30
).map("".join)
OLD = re.compile(r"<id>\s*([^<]*?)\s*</id>")  # the backtracking pattern it replaces


@SETTINGS
@given(nuspec)
def test_the_nuspec_scanner_is_linear_and_agrees_with_the_old_pattern(text: str) -> None:
    started = time.monotonic()
    found = element(text, "id")
    assert time.monotonic() - started < BOUND
    if len(text) < 400:  # small enough for the old pattern to finish
        old = OLD.search(text)
        assert found == (old.group(1) if old else None)


FEED_BITS = [
    b'<feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    b'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">',
    b"<entry>", b"</entry>", b"<m:properties>", b"</m:properties>", b"<d:Version>",
    b"</d:Version>", b"1.0.0", b"1.\xc2\xb2", b"<d:PackageSize>", b"</d:PackageSize>", b"99999",
    b'<link rel="next" href="x"/>', b"</feed>", b"<x/>", b"&amp;", b"&bad;", b"<!DOCTYPE a>",
]  # fmt: skip
feed = st.lists(st.one_of(st.sampled_from(FEED_BITS), st.binary(max_size=10)), max_size=60)


@SETTINGS
@given(feed, st.integers(1, 64))
def test_any_feed_bytes_end_in_entries_or_a_value_error(parts: list[bytes], chunk: int) -> None:
    body = b"".join(parts)
    reader = AtomReader(lambda e: None)
    started = time.monotonic()
    try:
        for i in range(0, len(body), chunk):
            reader.feed(body[i : i + chunk])
        reader.close()
    except (ValueError, TooMany):
        pass
    assert time.monotonic() - started < BOUND


@SETTINGS
@given(st.text(max_size=400))
def test_version_checks_never_raise(text: str) -> None:
    version_key(text)
    if usable_version(text):
        assert text.isascii() and len(version_key(text)[0]) == 4
