"""What the server asks of a diagnosis process, and how that process answers.

Jobs and answers are small picklable records: the request's bytes go in, finished output (JSON
text or an HTML fragment) comes out, so the server process only moves bytes. `answer` runs in a
diagnosis process (psgdiag.serve.worker) or, with `--jobs 0`, in the server process itself.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from psgdiag import api
from psgdiag.cli.incidents_cli import incident_json
from psgdiag.errors import KbError, PsgdiagError
from psgdiag.incidents import history as inc_mod
from psgdiag.kb.docs import signature_row
from psgdiag.model import Incident, KnowledgeBase, Report, TimeRange
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.sniff import sniff
from psgdiag.record import record
from psgdiag.redact.report import masked_report
from psgdiag.render.json_ import report_dict
from psgdiag.serve.card import report_html
from psgdiag.serve.rows import triage_html
from psgdiag.triage.batch import TriageResult, finish, triage_safely
from psgdiag.triage.collect import Ticket, is_zip_name, looks_binary, open_zip_bytes
from psgdiag.triage.mail import read_eml
from psgdiag.triage.report import result_dict

PASTE_NAME = "pasted text"


@record
class Upload:
    """One uploaded file: the name the client gave it and its bytes."""

    name: str
    data: bytes


@record
class ExplainJob:
    """Diagnose one input for the API; the answer is the `explain -f json` document."""

    data: bytes
    source: str
    at: TimeRange | None = None
    redact: bool = True


@record
class TriageJob:
    """Triage uploaded files (logs, .zip, .eml); the answer is the `triage -f json` document."""

    uploads: tuple[Upload, ...]
    at: TimeRange | None = None
    redact: bool = True


@record
class PageJob:
    """The web page's form: one ticket gives the HTML card, several give the triage table."""

    text: str
    uploads: tuple[Upload, ...] = ()
    at: TimeRange | None = None
    redact: bool = True


@record
class CatalogJob:
    """List the signatures, or the incidents (optionally at a time or for a cause)."""

    kind: str  # signatures | incidents
    at: TimeRange | None = None
    cause: str = ""


Job = ExplainJob | TriageJob | PageJob | CatalogJob


@record
class Answer:
    """A finished answer: a JSON body for the API, or an HTML fragment for the page."""

    body: bytes = b""
    html: str = ""


@record
class JobFailure:
    """A job that could not be answered: the HTTP status, one sentence and a hint."""

    status: int
    error: str
    hint: str = ""


@record
class Loaded:
    """What a diagnosis process loads once: the knowledge base and the incident history."""

    kb: KnowledgeBase
    history: tuple[Incident, ...]


def load(sig_dirs: Sequence[str]) -> Loaded:
    """Load the knowledge base (bundled plus extra folders) and the incident history."""
    return Loaded(api.load_kb([Path(d) for d in sig_dirs]), inc_mod.load_all())


def tickets_of(uploads: Sequence[Upload]) -> list[Ticket]:
    """Turn uploads into tickets as `triage` does: archives opened, messages read as mail."""
    out: list[Ticket] = []
    for up in uploads:
        name = up.name or "upload"
        if is_zip_name(name) or up.data[:4] == b"PK\x03\x04":
            out.extend(open_zip_bytes(up.data, name, 1))
        else:
            fmt = "eml" if name.lower().endswith(".eml") else "log"
            out.append(Ticket(name, fmt=fmt, data=up.data))
    return out


def _diagnose(data: bytes, source: str, at: TimeRange | None, state: Loaded) -> Report:
    doc = api.read_document(io.BytesIO(data), source, len(data), state.kb)
    return api.diagnose_document(doc, kb=state.kb, at=at, incidents=state.history)


def _explain(job: ExplainJob, state: Loaded) -> Answer | JobFailure:
    """The `explain -f json` document (psgdiag.render.json_ for one report)."""
    found = sniff(job.data)  # refused as `psgdiag explain` refuses it
    if found is not None:
        hint = "send archives to /v1/triage" if "ZIP" in found.kind else found.hint_for("")
        return JobFailure(415, f"the body is {found.kind}, not a text log", hint)
    report = _diagnose(job.data, job.source, job.at, state)
    doc = report_dict(masked_report(report) if job.redact else report)
    return Answer(body=(json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def _triage_result(
    tickets: Sequence[Ticket], job: TriageJob | PageJob, state: Loaded
) -> TriageResult:
    items = [triage_safely(t, state.kb, state.history, job.at, redact=job.redact) for t in tickets]
    return finish(items, state.kb.version, state.history)


def _triage(job: TriageJob, state: Loaded) -> Answer | JobFailure:
    tickets = tickets_of(job.uploads)
    if not tickets:
        return JobFailure(400, "the request holds no file", "send files as multipart/form-data")
    result = _triage_result(tickets, job, state)
    body = json.dumps(result_dict(result), indent=2, ensure_ascii=False) + "\n"
    return Answer(body=body.encode("utf-8"))


def _single_report(ticket: Ticket, job: PageJob, state: Loaded) -> Report | None:
    """Diagnose a lone ticket for the card; None when it is binary or unreadable."""
    data = ticket.data
    if data is None or ticket.problem:
        return None
    if ticket.fmt == "eml":
        text, _sent = read_eml(data)
        doc = normalize(RawText(text=text, encoding="eml", source=ticket.path))
        return api.diagnose_document(doc, kb=state.kb, at=job.at, incidents=state.history)
    if looks_binary(data):
        return None
    return _diagnose(data, ticket.path, job.at, state)


def _page(job: PageJob, state: Loaded) -> Answer | JobFailure:
    pasted = [Ticket(PASTE_NAME, data=job.text.encode("utf-8"))] if job.text.strip() else []
    tickets = pasted + tickets_of(job.uploads)
    if not tickets:
        return JobFailure(400, "there was nothing to explain", "paste the output or add files")
    if len(tickets) == 1:
        report = _single_report(tickets[0], job, state)
        if report is not None:
            return Answer(html=report_html(report, redacted=job.redact))
    result = _triage_result(tickets, job, state)
    return Answer(html=triage_html(result))


def _catalog(job: CatalogJob, state: Loaded) -> Answer:
    rows: object
    if job.kind == "signatures":
        rows = {
            "kb_version": state.kb.version,
            # the file name only: not the server's paths
            "signatures": [signature_row(s, Path(s.source).name) for s in state.kb.signatures],
        }
    else:
        found: Sequence[Incident] = state.history
        if job.at is not None:
            found = inc_mod.at_time(found, job.at)
        if job.cause:
            found = [i for i in found if inc_mod.fits(i, job.cause)]
        bundled = {i.id for i in inc_mod.bundled()}
        rows = [incident_json(i, "bundled" if i.id in bundled else "synced") for i in found]
    return Answer(body=(json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def answer(job: Job, state: Loaded) -> Answer | JobFailure:
    """Answer one job; the tool's own errors become failures, never a traceback."""
    try:
        if isinstance(job, ExplainJob):
            return _explain(job, state)
        if isinstance(job, TriageJob):
            return _triage(job, state)
        if isinstance(job, PageJob):
            return _page(job, state)
        return _catalog(job, state)
    except KbError as exc:
        return JobFailure(500, exc.message, exc.hint)
    except PsgdiagError as exc:
        return JobFailure(400, exc.message, exc.hint)
    except Exception as exc:  # a bug must cost one answer, not the process or a traceback
        # Only the type is logged: an exception's message may quote the input.
        sys.stderr.write(f"psgdiag serve: internal error in a job: {type(exc).__name__}\n")
        return JobFailure(
            500,
            f"internal error ({type(exc).__name__})",
            "run the same input with `psgdiag --debug explain` and report it",
        )
