"""Styled lines for the terminal card: plain text, or ANSI colours when the terminal wants them.

The explain card is a column of lines with a few emphasised words and no layout (evidence lines
are never wrapped), so it needs neither markup parsing nor rich's console, whose import alone
costs about a quarter of `explain`'s whole start-up budget. Tables (triage, signatures, probe)
still use rich.

Every piece of text that came from the user's log passes through `safe`: a pasted log can carry
escape sequences and other control characters, and they must reach the terminal as inert text.
"""

from __future__ import annotations

import sys
from typing import TextIO

#: SGR parameters of the styles the card uses ("bold red" combines two).
_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}

# C0 controls except TAB, DEL and the C1 range: shown as U+FFFD so nothing drives the terminal.
_INERT = {c: "\ufffd" for c in (*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0))}

Span = str | tuple[str, str]  # plain text, or (style, text)


def safe(text: str) -> str:
    """Return text with every control character (but TAB) replaced by U+FFFD."""
    return text.translate(_INERT)


def _enable_windows_vt(out: TextIO) -> bool:
    """Turn on ANSI processing for a Windows console; False when it cannot be (old conhost)."""
    if sys.platform != "win32":
        return True
    try:
        import ctypes
        import msvcrt

        handle = msvcrt.get_osfhandle(out.fileno())
        kernel32 = ctypes.windll.kernel32
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return True  # not a console (a pipe or a file): the reader decides what ANSI means
        return bool(kernel32.SetConsoleMode(handle, mode.value | 0x0004))
    except (AttributeError, OSError, ValueError):
        return False


class Styled:
    """Writes lines made of spans to a text stream, in colour or plain."""

    def __init__(self, out: TextIO, color: bool) -> None:
        self.out = out
        self.color = color and _enable_windows_vt(out)
        self.encoding = getattr(out, "encoding", None) or "utf-8"

    def _paint(self, span: Span) -> str:
        if isinstance(span, str):
            return safe(span)
        style, text = span
        text = safe(text)
        if not (self.color and style and text):
            return text
        codes = ";".join(_SGR[name] for name in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"

    def line(self, *spans: Span) -> None:
        """Write one line (an empty call writes an empty line)."""
        text = "".join(self._paint(span) for span in spans) + "\n"
        try:
            self.out.write(text)
        except UnicodeEncodeError:  # a console code page without some of the log's characters
            self.out.write(text.encode(self.encoding, "replace").decode(self.encoding))
