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
from html.parser import HTMLParser

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


#: Elements whose content is not text a person reads in the message.
_HIDDEN = frozenset({"head", "style", "script", "title", "template", "noscript"})
#: Elements that start and end a line.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "ul",
    }
)  # fmt: skip


class _TextOfHtml(HTMLParser):
    """Collect the readable text of an HTML body: hidden elements skipped, blocks on own lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities and character references unescaped
        self.parts: list[str] = []
        self.hidden: list[str] = []  # open hidden elements, innermost last
        self.pre = 0  # open <pre> elements: their whitespace is text

    def _new_line(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":  # a body ends a head left open
            self.hidden.clear()
        elif tag in _HIDDEN:
            self.hidden.append(tag)
        elif tag == "br" and not self.hidden:
            self.parts.append("\n")
        elif tag in _BLOCKS and not self.hidden:
            self._new_line()
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HIDDEN:  # <br/>, <hr/>; a self-closed <script/> hides nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            while tag in self.hidden and self.hidden.pop() != tag:
                pass  # close the innermost open one of that name and what it holds
        elif tag in _BLOCKS and not self.hidden:
            self._new_line()
            if tag == "pre" and self.pre:
                self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        at_line_start = not self.parts or self.parts[-1].endswith("\n")
        if at_line_start and not data.strip() and not self.pre:
            return  # the source's line breaks between blocks: no blank lines in the ticket
        self.parts.append(data)

    def parse_html_declaration(self, i: int) -> int:
        """Parse `<!...` at i; a malformed one is kept as text instead of stopping the parse."""
        try:
            return super().parse_html_declaration(i)
        except AssertionError:  # CPython before 3.13 asserts on some, e.g. "<![;" or "<!x["
            self.handle_data("<!")
            return i + 2


def _close_or_escape(markup: str) -> str:
    """Escape each `<` that nothing after it can close: no `>`, or no `-->` for a `<!--`.

    html.parser looks for the end of such a construct up to the end of the input, once per
    opener: quadratic time on hostile mail (100 KB of "<a" took 16 s on CPython 3.11). Markup
    that is well formed has none, so it is unchanged; escaped, the text stays as written.
    """
    last_gt = markup.rfind(">")
    if "<" in markup[last_gt + 1 :]:
        markup = markup[: last_gt + 1] + markup[last_gt + 1 :].replace("<", "&lt;")
    last_close = markup.rfind("-->")
    cut = last_close + 3 if last_close >= 0 else 0
    if "<!--" in markup[cut:]:
        markup = markup[:cut] + markup[cut:].replace("<!--", "&lt;!--")
    return markup


def html_text(markup: str) -> str:
    """Return the text of an HTML-only mail body.

    Tags are dropped with the content of head, style, script and the like (CSS and code are no
    part of the ticket); block elements and <br> break lines; entities are unescaped.
    """
    parser = _TextOfHtml()
    parser.feed(_close_or_escape(markup))
    parser.close()
    return "".join(parser.parts)


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
