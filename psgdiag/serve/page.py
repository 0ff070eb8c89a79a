"""The web page: a paste box and a file drop, then the result above a fresh form.

The form is a plain POST, so pasting and sending works without JavaScript; the script served
beside the page only adds the copy buttons and drag-and-drop. No external script, font or style:
the two static files are served by the app itself.
"""

from __future__ import annotations

from html import escape

from psgdiag import __version__

STATIC_FILES = {
    "serve.css": "text/css; charset=utf-8",
    "serve.js": "text/javascript; charset=utf-8",
}


def _sentence(text: str) -> str:
    """The API's lower-case error message as a sentence on the page."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _form(*, token_field: bool, unredacted_field: bool) -> str:
    token = (
        '<label for="token">Access token</label>'
        '<input type="password" id="token" name="token" autocomplete="current-password" required>'
        if token_field
        else ""
    )
    unredacted = (
        '<label><input type="checkbox" name="unredacted" value="1"> Show keys, tokens, '
        "e-mail addresses and user names unmasked</label>"
        if unredacted_field
        else ""
    )
    return f"""<form method="post" action="/" enctype="multipart/form-data" id="explain-form">
<label for="text">Console output of the failed install
<span class="hint-text">(Install-Module, Save-Module, Install-PSResource ...)</span></label>
<textarea id="text" name="text" rows="12" spellcheck="false" autocomplete="off"
 placeholder="PackageManagement\\Install-Package : ..."></textarea>
<div class="drop" id="drop-zone">
<label for="files">Or add files: logs, .zip archives of tickets, .eml messages</label>
<input type="file" id="files" name="files" multiple>
<p id="file-list" class="muted" aria-live="polite"></p>
</div>
<label for="at">When it failed <span class="hint-text">(optional; ISO 8601, e.g.
2016-07-12 or 2016-07-12T14:30Z; otherwise read from the log)</span></label>
<input type="text" id="at" name="at" autocomplete="off" spellcheck="false">
{token}{unredacted}
<button type="submit">Explain</button>
</form>"""


def render_page(
    *,
    kb_version: str,
    result_html: str = "",
    error: tuple[str, str] | None = None,
    token_field: bool = False,
    unredacted_field: bool = False,
) -> str:
    """Return the whole page; `result_html` is already escaped (psgdiag.serve.card, rows)."""
    title = "psgdiag: explain a failed PowerShell module install"
    body: list[str] = []
    if error is not None:
        message, hint = error
        body.append(
            '<section id="result" class="error" tabindex="-1" role="alert">'
            f"<h2>Could not explain this</h2><p>{escape(_sentence(message))}</p>"
            + (f"<p><strong>What to do:</strong> {escape(hint)}</p>" if hint else "")
            + "</section>"
        )
    elif result_html:
        body.append(
            '<section id="result" tabindex="-1" aria-label="Result">'
            f'{result_html}<p id="copy-status" class="visually-hidden" aria-live="polite"></p>'
            '</section><h2 id="again">Explain another</h2>'
        )
    body.append(_form(token_field=token_field, unredacted_field=unredacted_field))
    v = escape(__version__)
    masking = " unless you ask otherwise" if unredacted_field else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/serve.css?v={v}">
<script src="/static/serve.js?v={v}" defer></script>
</head><body>
<header><h1>psgdiag</h1><p>Paste the output of a failed PowerShell module install, or add
ticket files: see what went wrong, whose side it is on, and what to do.</p></header>
<main>
{"".join(body)}
</main>
<footer>psgdiag {v}, knowledge base {escape(kb_version)}. Nothing you send is stored; keys,
tokens, e-mail addresses and user names are masked in the answer{masking}.</footer>
</body></html>
"""
