"""`psgdiag signatures new --from FILE`: draft an experimental signature from an unexplained log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from psgdiag.cli.common import handled
from psgdiag.cli.signatures import sig_app
from psgdiag.errors import ExitCode, InputError, UsageError
from psgdiag.model import Fault

_ID_HELP = "Cause id for the draft (kebab-case; default: derived from the error text)."


def _default_case_roots() -> list[Path]:
    """tests/cases of the current folder, else of the checkout psgdiag runs from."""
    here = Path.cwd() / "tests" / "cases"
    if here.is_dir():
        return [here]
    checkout = Path(__file__).resolve().parents[2] / "tests" / "cases"
    return [checkout] if checkout.is_dir() else []


@sig_app.command("new")
@handled
def new_cmd(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--from", help="The unexplained log to draft from.")],
    sig_id: Annotated[str | None, typer.Option("--id", help=_ID_HELP)] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write <id>.toml into this folder (default: print it)."
        ),
    ] = None,
    cases: Annotated[
        list[Path] | None,
        typer.Option(help="Extra folder of sample logs to check for collisions (repeatable)."),
    ] = None,
    category: Annotated[str, typer.Option(help="Category of the draft.")] = "client-config",
    fault: Annotated[str, typer.Option(help="Whose side the draft puts it on.")] = "undetermined",
    transient: Annotated[
        bool, typer.Option("--transient", help="Mark the draft retryable.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing <id>.toml.")
    ] = False,
) -> None:
    """Draft a signature (status experimental) from a log and list the sample cases it also hits."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.kb import draft
    from psgdiag.kb import schema as sigschema
    from psgdiag.pipeline.extract import extract_facts
    from psgdiag.pipeline.ingest import decode
    from psgdiag.pipeline.normalize import normalize

    if sig_id is not None and not sigschema.ID_RX.match(sig_id):
        raise UsageError(f"{sig_id!r} is not a kebab-case id", hint="e.g. --id module-in-use")
    if category not in sigschema.CATEGORIES:
        raise UsageError(
            f"unknown category {category!r}",
            hint="use one of: " + ", ".join(sorted(sigschema.CATEGORIES)),
        )
    sides = [f.value for f in Fault]
    if fault not in sides:
        raise UsageError(f"unknown side {fault!r}", hint="use one of: " + ", ".join(sides))
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{source}: no such file", hint="check the path") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror})", hint="check the path") from None
    doc = normalize(decode(data, str(source)))
    roots = _default_case_roots() + list(cases or [])
    files = [f for f in draft.case_files(roots) if f.resolve() != source.resolve()]
    text = draft.build(
        doc,
        extract_facts(doc),
        sig_id=sig_id,
        category=category,
        fault=fault,
        transient=transient,
        source=source.name,
        others=draft.spaced_views(files),
    )
    sig = draft.validate(text, sig_id or _id_of(text))
    err = sys.stderr.write
    if not draft.matches(sig, doc):
        err(f"psgdiag: warning: the draft {sig.id} does not diagnose its own log; edit it\n")
    hits = draft.collisions(sig, files)
    if output is not None:
        target = output / f"{sig.id}.toml"
        if target.exists() and not force:
            raise UsageError(f"{target} already exists", hint="pass --force or another --id")
        try:
            output.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot write {target} ({exc.strerror})", hint="check --output"
            ) from None
        err(f"psgdiag: wrote {target}\n")
    else:
        sys.stdout.write(text)
    evidence = ", ".join(e.name for e in sig.evidence)
    err(f"psgdiag: drafted {sig.id} (experimental) with evidence: {evidence}\n")
    if not files:
        err("psgdiag: no sample cases found to check for collisions (use --cases DIR)\n")
    elif hits:
        err(f"psgdiag: the draft also matches {len(hits)} of {len(files)} sample cases:\n")
        for path in hits:
            err(f"  {path.parent.name}/{path.name}\n")
    else:
        err(f"psgdiag: no collision with {len(files)} sample cases\n")
    raise typer.Exit(int(ExitCode.OK))


def _id_of(text: str) -> str:
    import tomllib

    value = tomllib.loads(text).get("id", "")
    return str(value)


def register(app: typer.Typer) -> None:
    """The `new` command is attached to the signatures group when this module is imported."""
    del app
