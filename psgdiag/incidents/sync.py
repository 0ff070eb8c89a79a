"""`incidents sync` / `incidents import`: fetch the status page, parse it, merge into the cache.

The cache (incidents.cache_path()) is a TOML file of [[incident]] tables plus a [sync] table with
the validators (ETag, Last-Modified) of the last good fetch. It only ever grows: entries that the
page drops stay, entries the bundled history already has are not duplicated, and it is replaced
atomically (temp file + os.replace) only after a page parsed into at least one incident.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from psgdiag.errors import ExitCode, InputError, KbError, NetworkError, PsgdiagError
from psgdiag.incidents import history as inc_mod
from psgdiag.incidents import statuspage
from psgdiag.model import Incident
from psgdiag.record import record

DEFAULT_URL = (
    "https://raw.githubusercontent.com/PowerShell/PowerShellGallery/master/psgallery_status.md"
)
MAX_BYTES = 5_000_000
TIMEOUT = 15.0


@record
class Fetched:
    """A fetched page (text None when the server said 304 Not Modified)."""

    text: str | None
    etag: str = ""
    last_modified: str = ""


@record
class SyncResult:
    """What a sync changed."""

    status: str  # updated | unchanged
    added: tuple[str, ...]
    updated: tuple[str, ...]
    total: int
    path: Path
    warnings: tuple[str, ...] = ()


def raw_url(url: str) -> str:
    """Turn a github.com/<owner>/<repo>/blob/<ref>/<path> address into its raw form."""
    prefix = "https://github.com/"
    if url.startswith(prefix) and "/blob/" in url:
        owner_repo, rest = url[len(prefix) :].split("/blob/", 1)
        return f"https://raw.githubusercontent.com/{owner_repo}/{rest}"
    return url


def fetch(
    url: str, *, etag: str = "", last_modified: str = "", timeout: float = TIMEOUT
) -> Fetched:
    """GET the page with conditional headers; the proxy comes from the environment."""
    import httpx

    headers = {"User-Agent": "psgdiag (incident sync)", "Accept": "text/plain, text/markdown, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    hint = "check the network or proxy (HTTPS_PROXY); the cached incidents were kept"
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, trust_env=True) as client,
            client.stream("GET", raw_url(url), headers=headers) as resp,
        ):
            if resp.status_code == 304:
                return Fetched(None, etag, last_modified)
            if resp.status_code != 200:
                raise NetworkError(f"{url} answered HTTP {resp.status_code}", hint=hint)
            body = bytearray()
            for chunk in resp.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    raise NetworkError(f"{url} sent more than {MAX_BYTES} bytes", hint=hint)
            return Fetched(
                bytes(body).decode("utf-8", "replace"),
                resp.headers.get("ETag", ""),
                resp.headers.get("Last-Modified", ""),
            )
    except httpx.TimeoutException:
        raise NetworkError(f"timed out after {timeout:g} s fetching {url}", hint=hint) from None
    except httpx.HTTPError as exc:
        detail = " ".join(str(exc).split())[:160]
        why = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise NetworkError(f"could not fetch {url} ({why})", hint=hint) from None


def read_source(source: str, *, timeout: float = TIMEOUT) -> str:
    """Return the text of a status page given as a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        text = fetch(source, timeout=timeout).text
        return text or ""
    try:
        return Path(source).read_text("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such file: {source}", hint="pass a Markdown file or a URL") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read {source}: {exc}", hint="pass a UTF-8 Markdown file"
        ) from None


def parse_page(text: str, source: str, now: dt.datetime | None = None) -> statuspage.ParseResult:
    """Parse a page against the bundled + cached history; refuse a page with no entries."""
    result = statuspage.parse(text, source=source, known=inc_mod.load_all(), now=now)
    if not result.incidents:
        raise InputError(
            f"{source} does not look like a status page: no dated entries found",
            hint="expected Markdown headings such as '## 7/13/2016 - Title' or "
            "'### May 2nd, 2022 16:41 UTC Title'",
        )
    return result


# ------------------------------------------------------------------ cache file


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def dump_cache(incidents: Sequence[Incident], meta: dict[str, str]) -> str:
    """Serialise incidents (and the sync validators) as a TOML document."""
    lines = ["# Incidents learned by `psgdiag incidents sync`; rewritten on every sync.", ""]
    lines.append("[sync]")
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in sorted(meta.items()))
    for inc in incidents:
        lines += ["", "[[incident]]"]
        row: dict[str, Any] = {
            "id": inc.id,
            "title": inc.title,
            "start": inc.start,
            "end": inc.end,
            "end_assumed": inc.end_assumed,
            "end_reason": inc.end_reason,
            "state": inc.state,
            "certainty": inc.certainty,
            "kind": inc.kind,
            "impact": inc.impact,
            "causes": inc.causes,
            "summary": inc.summary,
            "root_cause": inc.root_cause,
            "workaround": inc.workaround,
            "symptoms": inc.symptoms,
            "sources": inc.sources,
            "permanent": inc.permanent,
        }
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in row.items() if v not in (None, "", ()))
    return "\n".join(lines) + "\n"


def read_cache(path: Path) -> tuple[list[Incident], dict[str, str]]:
    """Return the cached incidents and sync validators; an unreadable cache counts as empty."""
    try:
        text = path.read_text("utf-8")
        meta = tomllib.loads(text).get("sync", {})
        cached = list(inc_mod.parse_incidents_toml(text, str(path)))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KbError):
        return [], {}
    return cached, {str(k): str(v) for k, v in meta.items()}


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge(
    cached: Sequence[Incident], parsed: Sequence[Incident], bundled_ids: set[str]
) -> tuple[list[Incident], list[str], list[str]]:
    """Merge parsed entries into the cache: new ids added, changed ones replaced, none dropped."""
    by_id = {i.id: i for i in cached}
    added: list[str] = []
    updated: list[str] = []
    for inc in parsed:
        if inc.id in bundled_ids:
            continue
        old = by_id.get(inc.id)
        if old is None:
            added.append(inc.id)
        elif old != inc:
            updated.append(inc.id)
        by_id[inc.id] = inc
    merged = sorted(by_id.values(), key=lambda i: (i.start, i.id))
    return merged, added, updated


def sync(url: str = DEFAULT_URL, *, timeout: float = TIMEOUT) -> SyncResult:
    """Fetch the live status page and merge new incidents into the user cache."""
    path = inc_mod.cache_path()
    cached, meta = read_cache(path)
    same_url = meta.get("url") == url
    got = fetch(
        url,
        etag=meta.get("etag", "") if same_url else "",
        last_modified=meta.get("last_modified", "") if same_url else "",
        timeout=timeout,
    )
    if got.text is None:
        return SyncResult("unchanged", (), (), len(cached), path)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = parse_page(got.text, url, now=now)
    bundled_ids = {i.id for i in inc_mod.bundled()}
    merged, added, updated = merge(cached, result.incidents, bundled_ids)
    new_meta = {"url": url, "etag": got.etag, "last_modified": got.last_modified}
    new_meta["fetched"] = now.isoformat().replace("+00:00", "Z")
    try:
        write_atomic(path, dump_cache(merged, new_meta))
    except OSError as exc:
        raise PsgdiagError(
            f"cannot write the incident cache {path}: {exc.strerror or exc}",
            hint="set PSGDIAG_DATA_DIR to a writable folder",
            code=ExitCode.INPUT,
        ) from None
    return SyncResult("updated", tuple(added), tuple(updated), len(merged), path, result.warnings)
