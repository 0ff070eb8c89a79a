"""The NuGet v2 Atom answer, read as it streams in: entries one at a time, in linear time.

expat does the XML (it refuses entity amplification); a small state machine keeps only the
fields of the entry being read, each capped, so memory does not grow with the size of a page,
the number of its elements or the number of pages. Every value a server chooses is checked
here: a version, a size or a hash algorithm that no client could use is named, never trusted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from psgdiag import regexcode
from psgdiag.record import record

ATOM = "{http://www.w3.org/2005/Atom}"
DATA = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"
META = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
FIELD_CAP = 8192  # characters kept of any one value (a content URL is the longest real one)
# A page of 100 versions holds about 3,000 elements; expat calls back into Python for each.
MAX_ELEMENTS = 100_000
_WANTED = frozenset(
    {"Id", "Version", "NormalizedVersion", "PackageHash", "PackageHashAlgorithm", "PackageSize"}
    | {"IsPrerelease", "IsLatestVersion"}
)
# NuGet versions: 1 to 4 numeric parts, then an optional -prerelease and +metadata (ASCII).
_VERSION = regexcode.compile(
    r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,3}(?:-[0-9A-Za-z.-]{1,128})?(?:\+[0-9A-Za-z.-]{1,128})?"
)


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


class TooMany(Exception):
    """A page with more elements than MAX_ELEMENTS; the message names the cap."""


@record
class Rejected:
    """An entry whose version no client could use, and why."""

    version: str


def usable_version(text: str) -> bool:
    """True for a NuGet version a client can compare (ASCII digits, at most 4 parts)."""
    return len(text) <= 300 and _VERSION.fullmatch(text) is not None


def count(text: str, limit: int = 10**15) -> int | None:
    """A non-negative decimal count of ASCII digits below limit, else None."""
    text = text.strip()
    if not (0 < len(text) <= 18 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value < limit else None


class _Target:
    """An ElementTree parser target that hands each finished <entry> to a callback."""

    def __init__(self, on_entry: Callable[[Entry | Rejected], None]) -> None:
        self.on_entry = on_entry
        self.depth = 0
        self.elements = 0
        self.root = ""
        self.next: str | None = None
        self.fields: dict[str, str] | None = None  # the entry being read
        self.entry_depth = 0
        self.key = ""  # the field whose text is being collected
        self.text: list[str] = []
        self.size = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise TooMany(
                f"the feed sent a page of more than {MAX_ELEMENTS} XML elements (psgdiag reads "
                "at most that many; a page of 100 versions has about 3,000)"
            )
        if self.depth == 1:
            self.root = tag
            if tag == f"{ATOM}entry":
                self._open_entry()
            return
        if self.fields is None:
            if self.depth == 2 and tag == f"{ATOM}entry":
                self._open_entry()
            elif self.depth == 2 and tag == f"{ATOM}link" and attrib.get("rel") == "next":
                self.next = attrib.get("href", "")[:FIELD_CAP] or self.next
            return
        level = self.depth - self.entry_depth
        if level == 1 and tag == f"{ATOM}content":
            self.fields.setdefault("content", attrib.get("src", "")[:FIELD_CAP])
        name = tag.removeprefix(DATA)
        if level == 1 and tag == f"{ATOM}title":
            name = "title"
        elif not (tag.startswith(DATA) and name in _WANTED and level in (2, 3)):
            return
        if name not in self.fields:
            self.key, self.text, self.size = name, [], 0

    def data(self, text: str) -> None:
        if self.key and self.size < FIELD_CAP:
            self.text.append(text[: FIELD_CAP - self.size])
            self.size += len(self.text[-1])

    def end(self, tag: str) -> None:
        if self.fields is not None and self.key:
            self.fields[self.key] = "".join(self.text).strip()
            self.key = ""
        if self.fields is not None and self.depth == self.entry_depth:
            self.on_entry(_entry(self.fields))
            self.fields = None
        self.depth -= 1

    def close(self) -> None:
        return None

    def _open_entry(self) -> None:
        self.fields = {}
        self.entry_depth = self.depth


def _entry(f: dict[str, str]) -> Entry | Rejected:
    version = f.get("Version") or f.get("NormalizedVersion", "")
    if not usable_version(version):
        return Rejected(version)
    return Entry(
        id=f.get("Id") or f.get("title", ""),
        version=version,
        content=f.get("content", ""),
        hash=f.get("PackageHash", ""),
        hash_algorithm=f.get("PackageHashAlgorithm") or "SHA512",
        size=count(f.get("PackageSize", "")),
        prerelease=f.get("IsPrerelease", "").lower() == "true",
        latest=f.get("IsLatestVersion", "").lower() == "true",
    )


class AtomReader:
    """Feed bytes as they arrive; entries go to on_entry; ValueError when it is not Atom.

    A document whose root is not Atom is refused at its end, or after ROOT_GRACE bytes: a
    proxy's HTML page is usually not XML at all, and saying so is the better message.
    """

    ROOT_GRACE = 1024 * 1024

    def __init__(self, on_entry: Callable[[Entry | Rejected], None]) -> None:
        self._target = _Target(on_entry)
        self._parser = ET.XMLParser(target=self._target)
        self._fed = 0

    def feed(self, chunk: bytes) -> None:
        """Parse the next piece of the body."""
        try:
            self._parser.feed(chunk)
        except ET.ParseError as exc:
            raise ValueError(f"not XML ({exc})") from None
        self._fed += len(chunk)
        if self._fed > self.ROOT_GRACE:
            self._check_root()

    def close(self) -> str | None:
        """Finish the document; return its next-page link (None on the last page)."""
        try:
            self._parser.close()
        except ET.ParseError as exc:
            raise ValueError(f"not XML ({exc})") from None
        self._check_root()
        return self._target.next

    def _check_root(self) -> None:
        root = self._target.root
        if root not in (f"{ATOM}feed", f"{ATOM}entry"):
            shown = root if len(root) <= 80 else root[:79] + "\u2026"
            raise ValueError(f"XML but not an Atom feed (root element {shown!r})")
