"""Read an .eml ticket: its subject, text body and text attachments (zipped ones too), and date.

One message is one ticket: the parts are joined in order with a marker line before each
attachment, so evidence line numbers point into that joined text. An HTML-only body is read with
its tags removed. Zipped attachments are opened in memory under the same limits as archives.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
from email.message import EmailMessage

from psgdiag.pipeline.ingest import decode
from psgdiag.triage.collect import MAX_ZIP_DEPTH, is_zip_name, looks_binary, open_zip_bytes


def _part_text(part: EmailMessage) -> str | None:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else None
    if isinstance(content, str):
        return content
    if isinstance(content, bytes):
        return decode(content).text
    return None


def _is_text_part(part: EmailMessage) -> bool:
    name = (part.get_filename() or "").lower()
    if part.get_content_maintype() == "text" and part.get_content_subtype() in ("plain", ""):
        return True
    return name.endswith((".log", ".txt", ".out", ".transcript"))


def html_text(markup: str) -> str:
    """Return the text of an HTML-only mail body: tags dropped, line breaks kept."""
    import html
    import re

    markup = re.sub(r"(?i)<br\s*/?>|</(?:p|div|pre|tr|li|h[1-6])\s*>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]{0,2000}>", "", markup))


def _zip_attachment(part: EmailMessage, name: str) -> list[str]:
    """Return the text members of a zipped attachment, under the same limits as archives."""

    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return []
    out: list[str] = []
    for ticket in open_zip_bytes(payload, name, MAX_ZIP_DEPTH):
        if ticket.data is None:
            out.append(f"----- attachment: {ticket.path} not read: {ticket.problem} -----")
        elif ticket.fmt == "log" and not looks_binary(ticket.data):
            out += [f"----- attachment: {ticket.path} -----", decode(ticket.data).text]
    return out


def read_eml(data: bytes) -> tuple[str, dt.datetime | None]:
    """Return an e-mail's text body and text attachments joined, and its Date header."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    parts: list[str] = []
    subject = str(msg.get("Subject", "") or "")
    if subject:
        parts.append(f"Subject: {subject}")
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    has_plain = any(_is_text_part(p) for p in leaves)
    for part in leaves:
        name = part.get_filename() or ""
        if is_zip_name(name):
            parts.extend(_zip_attachment(part, name))
            continue
        if not _is_text_part(part) and (has_plain or part.get_content_type() != "text/html"):
            continue
        text = _part_text(part)
        if text is None:
            continue
        if part.get_content_type() == "text/html" and not name:
            text = html_text(text)
        if name:
            parts.append(f"----- attachment: {name} -----")
        parts.append(text)
    when: dt.datetime | None = None
    raw_date = msg.get("Date")
    if raw_date:
        try:
            when = email.utils.parsedate_to_datetime(str(raw_date))
        except (TypeError, ValueError):
            when = None
        if when is not None:
            when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return "\n".join(parts), when
