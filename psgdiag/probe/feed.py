"""The NuGet v2 feed query (FindPackagesById, as PowerShellGet sends it) and its Atom answer."""

from __future__ import annotations

import re
from contextlib import closing
from urllib.parse import quote, urljoin

from psgdiag.probe.atom import AtomReader, Entry, Rejected, TooMany
from psgdiag.probe.http import Session, TooLarge, fetch, retry_after, status_cause
from psgdiag.probe.model import Deadline, Step, StepTimer, outcome_cause, printable
from psgdiag.record import replace

__all__ = ["Entry", "exact_url", "feed_url", "parse_feed", "pick", "same_version", "step_feed"]

# A healthy feed pages 100 versions at a time; no module comes near 10,000 versions.
MAX_PAGES = 100
PAGE_CAP = 16 * 1024 * 1024


def feed_url(repository: str, module: str) -> str:
    """The query PowerShellGet's NuGet provider sends for Find-Module/Install-Module."""
    return f"{repository}/FindPackagesById()?id='{quote(module, safe='.-_')}'"


def exact_url(repository: str, module: str, version: str) -> str:
    """The query PowerShellGet sends for one exact version (-RequiredVersion)."""
    return (
        f"{repository}/Packages(Id='{quote(module, safe='.-_')}',"
        f"Version='{quote(version, safe='.-_+')}')"
    )


def parse_feed(body: bytes) -> tuple[list[Entry], str | None]:
    """Entries and the next-page link of one Atom page; ValueError when it is not Atom."""
    entries: list[Entry] = []
    reader = AtomReader(lambda e: entries.append(e) if isinstance(e, Entry) else None)
    reader.feed(body)
    return entries, reader.close()


def _number(part: str) -> int:
    return int(part) if part.isascii() and part.isdigit() and len(part) <= 18 else 0


def version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """Sort key: numeric parts, then releases after prereleases (total: never raises)."""
    core, _, pre = version.partition("-")
    nums = tuple(_number(n) for n in re.split(r"[.+]", core[:300])[:4])
    nums = nums + (0,) * (4 - len(nums))
    return nums, 0 if pre else 1, pre


def same_version(a: str, b: str) -> bool:
    """1.0 == 1.0.0 == 1.0.0.0; prerelease labels compare case-insensitively."""
    return version_key(a.lower()) == version_key(b.lower())


class Chooser:
    """Picks the entry Install-Module would fetch as entries stream in; keeps O(1) of them."""

    def __init__(self, version: str | None) -> None:
        self.version = version
        self.count = 0
        self.rejected = 0
        self.example = ""  # an unusable version, for the message
        self.match: Entry | None = None
        self.best: dict[bool, Entry] = {}  # stable? -> highest version
        self.flagged: dict[bool, Entry] = {}  # stable? -> first flagged IsLatestVersion
        self.top: dict[str, tuple[tuple[int, ...], int, str]] = {}

    def add(self, item: Entry | Rejected) -> None:
        """Take one entry of the feed."""
        if isinstance(item, Rejected):
            self.rejected += 1
            self.example = self.example or item.version
            return
        self.count += 1
        key = version_key(item.version)
        if self.version and self.match is None and same_version(item.version, self.version):
            self.match = item
        stable = not item.prerelease
        if stable not in self.best or key > version_key(self.best[stable].version):
            self.best[stable] = item
        if item.latest:
            self.flagged.setdefault(stable, item)
        self.top[item.version] = key
        if len(self.top) > 50:
            keep = sorted(self.top.items(), key=lambda kv: kv[1])[-5:]
            self.top = dict(keep)

    def chosen(self) -> Entry | None:
        """The requested version, or the latest stable one (as Install-Module picks)."""
        if self.version:
            return self.match
        stable = True in self.best
        return self.flagged.get(stable) or self.best.get(stable)

    def latest_listed(self) -> str:
        """The five highest versions seen, lowest first."""
        return ", ".join(v for v, _ in sorted(self.top.items(), key=lambda kv: kv[1])[-5:])


def pick(entries: list[Entry], version: str | None) -> Entry | None:
    """The requested version, or the latest stable one (as Install-Module picks)."""
    chooser = Chooser(version)
    for entry in entries:
        chooser.add(entry)
    return chooser.chosen()


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
        exact = Chooser(version)
        failed, _ = _atom(session, exact_url(repository, module, version), deadline, facts, exact)
        if failed is None and exact.chosen():
            return _chosen(exact, module, version, queries, timer)
        if failed is not None and failed.cause != outcome_cause("not-found"):
            return replace(failed, ms=timer.ms()), None
    chooser = Chooser(version)
    url: str | None = feed_url(repository, module)
    seen: set[str] = set()
    while url:
        if url in seen:
            detail = f"the feed's next links loop back to a page already read ({printable(url)})"
            return Step("feed", "fail", detail, timer.ms(), outcome_cause("service-error")), None
        if len(seen) >= MAX_PAGES:
            detail = (
                f"the feed sent more than {MAX_PAGES} pages of versions for one module "
                f"(psgdiag reads at most {MAX_PAGES}; a healthy feed pages 100 versions at a "
                f"time): the server sent more than a client can use; {chooser.count} read so far"
            )
            return Step("feed", "fail", detail, timer.ms(), outcome_cause("unusable")), None
        seen.add(url)
        queries += 1
        failed, nxt = _atom(session, url, deadline, facts, chooser)
        if failed is not None:
            return replace(failed, ms=timer.ms()), None
        if version and chooser.chosen():
            break
        url = urljoin(url, nxt) if nxt else None
    return _chosen(chooser, module, version, queries, timer)


def _atom(
    session: Session, url: str, deadline: Deadline, facts: dict[str, object], chooser: Chooser
) -> tuple[Step | None, str | None]:
    """GET one Atom page, streaming its entries into chooser: (a failed step or None, next URL)."""
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
            return Step("feed", "fail", detail, 0, cause, data=data), None
        reader = AtomReader(chooser.add)
        size = 0
        try:
            for chunk in resp.iter_raw():
                deadline.check()
                size += len(chunk)
                if size > PAGE_CAP:
                    raise TooLarge(
                        f"the feed sent a page larger than {PAGE_CAP >> 20} MB "
                        f"(psgdiag reads at most {PAGE_CAP >> 20} MB per page)"
                    )
                reader.feed(chunk)
            nxt = reader.close()
        except TooMany as exc:
            raise TooLarge(str(exc)) from None
        except ValueError as exc:
            detail = (
                f"the repository answered {resp.status_code} but {exc}: "
                "is this a NuGet v2 feed, or a proxy or captive-portal page?"
            )
            return Step("feed", "fail", detail, 0, outcome_cause("service-error")), None
    return None, nxt


def _chosen(
    chooser: Chooser, module: str, version: str | None, queries: int, timer: StepTimer
) -> tuple[Step, Entry | None]:
    ignored = ""
    if chooser.rejected:
        example = printable(chooser.example, 40)
        ignored = f"{chooser.rejected} entries with a version no client can use (e.g. {example!r})"
    if not chooser.count:
        if chooser.rejected:
            detail = f"the feed lists only {ignored}: the server sent something unusable"
            return Step("feed", "fail", detail, timer.ms(), outcome_cause("unusable")), None
        detail = f"the feed lists no package with id '{module}'"
        return Step("feed", "fail", detail, timer.ms(), outcome_cause("not-found")), None
    chosen = chooser.chosen()
    if chosen is None:
        detail = f"'{module}' has no version {version} (latest listed: {chooser.latest_listed()})"
        return Step("feed", "fail", detail, timer.ms(), outcome_cause("not-found")), None
    size = f"{chosen.size} bytes" if chosen.size is not None else "size not given"
    digest = f"{chosen.hash_algorithm} {chosen.hash[:16]}..." if chosen.hash else "no hash"
    detail = (
        f"{chooser.count} version(s) listed in {queries} quer{'y' if queries == 1 else 'ies'}; "
        f"{chosen.id} {chosen.version}: {size}, {digest}"
    )
    if ignored:
        detail += f"; ignored {ignored}"
    data: dict[str, object] = {
        "versions": chooser.count,
        "package_hash": chosen.hash or None,
        "package_hash_algorithm": chosen.hash_algorithm,
        "package_size": chosen.size,
        "content": chosen.content,
    }
    return Step("feed", "pass", detail, timer.ms(), data=data), chosen
