"""`psgdiag messages list | show ID | scan FILE`: the message catalog and what a log says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from psgdiag.cli.common import SIGNATURE_DIRS, TABLE_FORMAT, TableFormat, handled, signature_dirs
from psgdiag.errors import UsageError

msg_app = typer.Typer(
    help="Browse the message catalog: what the install stack can print, by identity.",
    no_args_is_help=True,
)


@msg_app.command("list")
@handled
def list_cmd(
    ctx: typer.Context,
    component: str = typer.Option(None, "--component", help="Only this component."),
    used: bool = typer.Option(False, "--used", help="Only messages some signature names."),
    unused: bool = typer.Option(False, "--unused", help="Only messages no signature names."),
    fmt: TableFormat = TABLE_FORMAT,
    signatures: list[Path] = SIGNATURE_DIRS,
) -> None:
    """List the catalogued messages, with the causes whose signatures name each."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.kb import load as kb_mod
    from psgdiag.kb.catalog import load_catalog
    from psgdiag.kb.coverage import causes_of

    if used and unused:
        raise UsageError("--used and --unused exclude each other", hint="give one of them")
    catalog = load_catalog()
    causes = causes_of(kb_mod.load(signature_dirs(signatures)))
    rows = []
    for msg in catalog.messages.values():
        named = causes.get(msg.id.split("@", 1)[0], [])
        if component and msg.component.lower() != component.lower():
            continue
        if (used and not named) or (unused and named):
            continue
        rows.append((msg, named))
    if fmt == TableFormat.JSON:
        out = [
            {
                "id": m.id,
                "component": m.component,
                "stream": m.stream,
                "template": m.template,
                "translations": sorted({t.locale for t in m.translations}),
                "causes": named,
            }
            for m, named in rows
        ]
        json.dump({"messages": out}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for msg, named in rows:
        locales = ",".join(sorted({t.locale for t in msg.translations}))
        tail = f"  -> {', '.join(named)}" if named else ""
        extra = f" [{locales}]" if locales else ""
        sys.stdout.write(f"{msg.id}{extra}{tail}\n    {_short(msg.template)}\n")
    sys.stdout.write(f"{len(rows)} messages\n")


def _short(text: str, width: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@msg_app.command("show")
@handled
def show_cmd(
    ctx: typer.Context,
    message_id: str = typer.Argument(..., metavar="ID", help="e.g. PowerShellGet.NoMatchFound"),
    fmt: TableFormat = TABLE_FORMAT,
    signatures: list[Path] = SIGNATURE_DIRS,
) -> None:
    """Show one message: its identity, template, translations and the causes it supports."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    import difflib

    from psgdiag.kb import load as kb_mod
    from psgdiag.kb.catalog import load_catalog
    from psgdiag.kb.coverage import causes_of

    catalog = load_catalog()
    msg = catalog.get(message_id)
    if msg is None:
        close = difflib.get_close_matches(message_id, list(catalog.messages), n=3)
        hint = ("did you mean: " + ", ".join(close)) if close else "see `psgdiag messages list`"
        raise UsageError(f"no catalogued message {message_id!r}", hint=hint)
    named = causes_of(kb_mod.load(signature_dirs(signatures))).get(msg.id.split("@", 1)[0], [])
    doc = {
        "id": msg.id,
        "component": msg.component,
        "key": msg.key,
        "stream": msg.stream,
        "template": msg.template,
        "versions": list(msg.versions),
        "error_ids": list(msg.error_ids),
        "fqids": list(msg.fqids),
        "category": msg.category,
        "exception": msg.exception,
        "source": msg.source,
        "translations": [
            {"locale": t.locale, "text": t.text, "source": t.source} for t in msg.translations
        ],
        "causes": named,
    }
    if fmt == TableFormat.JSON:
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    lines = [f"{msg.id}  ({msg.component}, {msg.stream})", "", msg.template, ""]
    for key in ("versions", "error_ids", "fqids"):
        if doc[key]:
            lines.append(f"{key}: {', '.join(doc[key])}")  # type: ignore[arg-type]
    if msg.category or msg.exception:
        lines.append(f"raised as: {msg.category or '?'} / {msg.exception or '?'}")
    lines.append(f"source: {msg.source}")
    for t in msg.translations:
        lines.append(f"[{t.locale}] {t.text}\n     seen in: {t.source}")
    lines.append("causes: " + (", ".join(named) if named else "(no signature names it)"))
    sys.stdout.write("\n".join(lines) + "\n")


@msg_app.command("scan")
@handled
def scan_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A log to read."),
    fmt: TableFormat = TABLE_FORMAT,
) -> None:
    """Show every catalogued message recognised in a log, and how (for signature authors)."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.pipeline.ingest import FULL_READ_LIMIT, decode, open_input, read_all
    from psgdiag.pipeline.normalize import normalize
    from psgdiag.pipeline.recognise import recognise_everything

    stream, name, _size = open_input(str(file), None)
    with stream:
        doc = normalize(decode(read_all(stream, name, FULL_READ_LIMIT), name))
    said = recognise_everything(doc)
    if fmt == TableFormat.JSON:
        out = [
            {
                "id": s.message,
                "line": s.line_start or None,
                "line_end": s.line_end or None,
                "how": s.how,
                "locale": s.locale or None,
                "slots": dict(s.slots),
            }
            for s in said
        ]
        json.dump({"source": str(file), "messages": out}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for s in sorted(said, key=lambda x: (x.line_start, x.message)):
        where = f"L{s.line_start}" if s.line_start else "-"
        lang = f" [{s.locale}]" if s.locale and s.locale != "en" else ""
        slots = "  " + ", ".join(f"{k}={v}" for k, v in s.slots) if s.slots else ""
        sys.stdout.write(f"{where:<6} {s.how:<13} {s.message}{lang}{slots}\n")
    sys.stdout.write(f"{len(said)} messages recognised in {file}\n")


def register(app: typer.Typer) -> None:
    """Add the `messages` command group."""
    app.add_typer(msg_app, name="messages")
