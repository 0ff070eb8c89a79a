"""The HTTP API under /v1, and what the page shares with it: token, redaction, time, jobs.

Every answer is JSON; an error is `{"error": ..., "hint": ...}` with its status, never a
traceback. The documents are those of the CLI: `explain -f json`, `triage -f json`,
`signatures list -f json`, `incidents list -f json` (psgdiag/serve/openapi.json describes them).
"""

from __future__ import annotations

import functools
import hmac
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from psgdiag.errors import UsageError
from psgdiag.model import TimeRange
from psgdiag.pipeline.when import parse_at
from psgdiag.record import record
from psgdiag.serve.forms import read_form
from psgdiag.serve.guard import ApiError, error_body
from psgdiag.serve.jobs import Answer, CatalogJob, ExplainJob, Job, JobFailure, TriageJob
from psgdiag.serve.pool import Diagnoser, ServerBusy, TimeLimitExceeded, WorkerLost
from psgdiag.serve.settings import ServeSettings

Endpoint = Callable[[Request], Awaitable[Response]]
EXPLAIN_KEYS = frozenset({"text", "at", "redact", "source"})
API_SOURCE = "<request>"


@record
class ServerState:
    """What every request reads: the settings and the diagnoser (kept on app.state)."""

    settings: ServeSettings
    diagnoser: Diagnoser


def state_of(request: Request) -> ServerState:
    """Return the server's state for this request."""
    state = request.app.state.server
    assert isinstance(state, ServerState)
    return state


def check_token(request: Request, settings: ServeSettings, offered: str = "") -> None:
    """Raise 401 unless the request carries the server's token (header, or the page's field)."""
    if not settings.token:
        return
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    given = value.strip() if scheme.lower() == "bearer" else offered
    if not given or not hmac.compare_digest(given.encode(), settings.token.encode()):
        raise ApiError(
            401, "a valid access token is required", "send the header Authorization: Bearer <token>"
        )


def wants_redaction(value: object, settings: ServeSettings) -> bool:
    """Read a `redact` choice (absent: yes); refuse `no` unless the server allows it."""
    if value is None or value is True:
        return True
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
        return True
    if value is not False and not (
        isinstance(value, str) and value.lower() in ("0", "false", "no", "off")
    ):
        raise ApiError(400, f"redact must be true or false, not {value!r}", "omit it to redact")
    if not settings.allow_unredacted:
        raise ApiError(
            403,
            "this server answers only with secrets and personal data masked",
            "start the server with --allow-unredacted to allow redact=false",
        )
    return False


def parse_time(value: object) -> TimeRange | None:
    """Read an `at` value (ISO 8601, as `explain --at`); None when absent or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, "at must be a string", "e.g. 2016-07-12 or 2016-07-12T14:30:00Z")
    try:
        return parse_at(value)
    except UsageError as exc:
        raise ApiError(400, f"at {value!r} is not a date or time", exc.hint) from None


async def run_job(request: Request, job: Job) -> Answer:
    """Run a job on the diagnoser; its failures become ApiErrors."""
    settings = state_of(request).settings
    try:
        reply = await state_of(request).diagnoser.run(job)
    except TimeLimitExceeded:
        raise ApiError(
            503,
            f"the diagnosis took longer than {settings.time_limit:g} s and was stopped",
            "send a shorter excerpt: the error record and the lines around it",
        ) from None
    except ServerBusy:
        raise ApiError(503, "the server is busy", "retry in a few seconds") from None
    except WorkerLost:
        raise ApiError(500, "the diagnosis process stopped unexpectedly", "retry once") from None
    if isinstance(reply, JobFailure):
        raise ApiError(reply.status, reply.error, reply.hint)
    return reply


def json_error(exc: ApiError) -> Response:
    """Return an error answer as JSON (401 also names the scheme)."""
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    return Response(error_body(exc), exc.status, headers, media_type="application/json")


def internal_error(exc: Exception) -> ApiError:
    """Log a bug by its type only (its message may quote the input) and describe it."""
    sys.stderr.write(f"psgdiag serve: internal error: {type(exc).__name__}\n")
    return ApiError(500, f"internal error ({type(exc).__name__})", "report it with the input")


def api_route(fn: Endpoint) -> Endpoint:
    """Wrap an API endpoint: token first, and every failure answered as JSON."""

    @functools.wraps(fn)
    async def endpoint(request: Request) -> Response:
        try:
            check_token(request, state_of(request).settings)
            return await fn(request)
        except ApiError as exc:
            return json_error(exc)
        except Exception as exc:
            return json_error(internal_error(exc))

    return endpoint


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _explain_json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON", 'send {"text": "..."}') from None
    if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
        raise ApiError(400, 'the JSON body needs a "text" string', 'send {"text": "..."}')
    unknown = sorted(set(doc) - EXPLAIN_KEYS)
    if unknown:
        raise ApiError(400, f"unknown key(s) {', '.join(unknown)}", "use text, at, redact, source")
    if not isinstance(doc.get("source", ""), str):
        raise ApiError(400, "source must be a string", "name the ticket, e.g. TICKET-123")
    return doc


@api_route
async def explain(request: Request) -> Response:
    """POST /v1/explain: one input (raw text or bytes, or JSON) -> the explain document."""
    settings = state_of(request).settings
    media = _media_type(request)
    query = request.query_params
    at_value: object = query.get("at")
    redact_value: object = query.get("redact")
    source = API_SOURCE
    body = await request.body()
    if media == "application/json" or media.endswith("+json"):
        doc = _explain_json(body)
        data = doc["text"].encode("utf-8")
        at_value = doc.get("at", at_value)
        redact_value = doc.get("redact", redact_value)
        source = doc.get("source") or source
    elif media in ("", "application/octet-stream") or media.startswith("text/"):
        data = body
    else:
        raise ApiError(
            415,
            f"cannot read a {media} body here",
            "send text/plain, application/octet-stream or JSON; files go to /v1/triage",
        )
    if not data.strip():
        raise ApiError(400, "the request holds no text to explain", "send the failed output")
    job = ExplainJob(data, source, parse_time(at_value), wants_redaction(redact_value, settings))
    return Response((await run_job(request, job)).body, media_type="application/json")


@api_route
async def triage(request: Request) -> Response:
    """POST /v1/triage: files (multipart) -> the triage document."""
    settings = state_of(request).settings
    if _media_type(request) != "multipart/form-data":
        raise ApiError(415, "send the files as multipart/form-data", "one part per file")
    form = await read_form(request.headers["content-type"], request.stream())
    redact = wants_redaction(request.query_params.get("redact"), settings)
    at = parse_time(request.query_params.get("at") or form.fields.get("at"))
    answer = await run_job(request, TriageJob(form.uploads, at, redact))
    return Response(answer.body, media_type="application/json")


@api_route
async def signatures(request: Request) -> Response:
    """GET /v1/signatures: every known cause (`signatures list -f json`)."""
    answer = await run_job(request, CatalogJob("signatures"))
    return Response(answer.body, media_type="application/json")


@api_route
async def incidents(request: Request) -> Response:
    """GET /v1/incidents: the incident history (`incidents list -f json`), filtered."""
    query = request.query_params
    job = CatalogJob("incidents", parse_time(query.get("at")), query.get("cause", ""))
    answer = await run_job(request, job)
    return Response(answer.body, media_type="application/json")
