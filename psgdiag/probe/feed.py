"""The NuGet v2 feed query (FindPackagesById, as PowerShellGet sends it) and its Atom answer."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from contextlib import closing
from urllib.parse import quote

from psgdiag.probe.http import Session, fetch, read_capped, retry_after, status_cause
from psgdiag.probe.model import Deadline, Step, StepTimer, outcome_cause
from psgdiag.record import record, replace

ATOM = "{http://www.w3.org/2005/Atom}"
DATA = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"
META = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
FEED_CAP = 16 * 1024 * 1024
MAX_PAGES = 20


@record
class Entry:
    """One package version as the feed describes it."""

    id: str
    version: str
    content: str
    hash: str
    hash_algorithm: str
    size: int | None
    prerelease: bool
    latest: bool


def feed_url(repository: str, module: str) -> str:
    """The query PowerShellGet's NuGet provider sends for Find-Module/Install-Module."""
    return f"{repository}/FindPackagesById()?id='{quote(module, safe='.-_')}'"


def parse_feed(body: bytes) -> tuple[list[Entry], str | None]:
    """Entries and the next-page link of one Atom page; ValueError when it is not Atom."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None
    if root.tag == f"{ATOM}entry":
        entries = [root]
    elif root.tag == f"{ATOM}feed":
        entries = root.findall(f"{ATOM}entry")
    else:
        raise ValueError(f"XML but not an Atom feed (root element {root.tag!r})")
    nxt = None
    for link in root.findall(f"{ATOM}link"):
        if link.get("rel") == "next" and link.get("href"):
            nxt = link.get("href")
    return [_entry(e) for e in entries], nxt


def _entry(e: ET.Element) -> Entry:
    props = e.find(f"{META}properties")
    if props is None:
        props = e.find(f"{ATOM}content/{META}properties")

    def prop(name: str) -> str:
        node = props.find(f"{DATA}{name}") if props is not None else None
        return (node.text or "").strip() if node is not None else ""

    content = e.find(f"{ATOM}content")
    size = prop("PackageSize")
    title = e.findtext(f"{ATOM}title") or ""
    return Entry(
        id=prop("Id") or title.strip(),
        version=prop("Version") or prop("NormalizedVersion"),
        content=(content.get("src") or "") if content is not None else "",
        hash=prop("PackageHash"),
        hash_algorithm=prop("PackageHashAlgorithm") or "SHA512",
        size=int(size) if size.isdigit() else None,
        prerelease=prop("IsPrerelease").lower() == "true",
        latest=prop("IsLatestVersion").lower() == "true",
    )


def version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """Sort key: numeric parts, then releases after prereleases."""
    core, _, pre = version.partition("-")
    nums = tuple(int(n) if n.isdigit() else 0 for n in re.split(r"[.+]", core)[:4])
    nums = nums + (0,) * (4 - len(nums))
    return nums, 0 if pre else 1, pre


def same_version(a: str, b: str) -> bool:
    """1.0 == 1.0.0 == 1.0.0.0; prerelease labels compare case-insensitively."""
    return version_key(a.lower()) == version_key(b.lower())


def pick(entries: list[Entry], version: str | None) -> Entry | None:
    """The requested version, or the latest stable one (as Install-Module picks)."""
    if version:
        return next((e for e in entries if same_version(e.version, version)), None)
    stable = [e for e in entries if not e.prerelease] or entries
    flagged = [e for e in stable if e.latest]
    if flagged:
        return flagged[0]
    return max(stable, key=lambda e: version_key(e.version), default=None)


def exact_url(repository: str, module: str, version: str) -> str:
    """The query PowerShellGet sends for one exact version (-RequiredVersion)."""
    return (
        f"{repository}/Packages(Id='{quote(module, safe='.-_')}',"
        f"Version='{quote(version, safe='.-_+')}')"
    )


def step_feed(
    session: Session,
    repository: str,
    module: str,
    version: str | None,
    deadline: Deadline,
    facts: dict[str, object],
) -> tuple[Step, Entry | None]:
    """Query the feed (the exact version first, when one is asked for) and pick what to fetch."""
    timer = StepTimer()
    queries = 0
    if version:
        queries += 1
        failed, entries, _ = _atom(session, exact_url(repository, module, version), deadline, facts)
        if failed is None and pick(entries, version):
            return _chosen(entries, module, version, queries, timer)
        if failed is not None and failed.cause != outcome_cause("not-found"):
            return replace(failed, ms=timer.ms()), None
    url: str | None = feed_url(repository, module)
    entries = []
    while url and queries < MAX_PAGES:
        queries += 1
        failed, page, url = _atom(session, url, deadline, facts)
        if failed is not None:
            return replace(failed, ms=timer.ms()), None
        entries.extend(page)
        if version and pick(entries, version):
            break
    return _chosen(entries, module, version, queries, timer)


def _atom(
    session: Session, url: str, deadline: Deadline, facts: dict[str, object]
) -> tuple[Step | None, list[Entry], str | None]:
    """GET one Atom page: (a failed step or None, its entries, the next page's URL)."""
    fetched = fetch(session, url, deadline)
    with closing(fetched.response) as resp:
        cause = status_cause(resp.status_code, listing=True)
        if cause:
            wait = retry_after(resp)
            detail = f"GET {url} answered {resp.status_code} {resp.reason_phrase}"
            if wait:
                facts["retry_after"] = wait
                detail += f"; Retry-After: {wait} (reported, not waited for)"
            data: dict[str, object] = {"status": resp.status_code, "retry_after": wait}
            return Step("feed", "fail", detail, 0, cause, data=data), [], None
        body = read_capped(fetched, FEED_CAP, deadline)
    try:
        page, nxt = parse_feed(body)
    except ValueError as exc:
        detail = (
            f"the repository answered {resp.status_code} but {exc}: "
            "is this a NuGet v2 feed, or a proxy or captive-portal page?"
        )
        return Step("feed", "fail", detail, 0, outcome_cause("service-error")), [], None
    return None, page, nxt


def _chosen(
    entries: list[Entry], module: str, version: str | None, queries: int, timer: StepTimer
) -> tuple[Step, Entry | None]:
    if not entries:
        detail = f"the feed lists no package with id '{module}'"
        return Step("feed", "fail", detail, timer.ms(), outcome_cause("not-found")), None
    chosen = pick(entries, version)
    if chosen is None:
        shown = ", ".join(sorted({e.version for e in entries}, key=version_key)[-5:])
        detail = f"'{module}' has no version {version} (latest listed: {shown})"
        return Step("feed", "fail", detail, timer.ms(), outcome_cause("not-found")), None
    size = f"{chosen.size} bytes" if chosen.size is not None else "size not given"
    digest = f"{chosen.hash_algorithm} {chosen.hash[:16]}..." if chosen.hash else "no hash"
    detail = (
        f"{len(entries)} version(s) listed in {queries} quer{'y' if queries == 1 else 'ies'}; "
        f"{chosen.id} {chosen.version}: "
        f"{size}, {digest}"
    )
    data: dict[str, object] = {
        "versions": len(entries),
        "package_hash": chosen.hash or None,
        "package_hash_algorithm": chosen.hash_algorithm,
        "package_size": chosen.size,
        "content": chosen.content,
    }
    return Step("feed", "pass", detail, timer.ms(), data=data), chosen
