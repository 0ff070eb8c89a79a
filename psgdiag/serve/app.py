"""The Starlette application: the page, its static files, health, OpenAPI, and the API routes.

`create_app` builds one application around a diagnoser (a process pool by default); the
knowledge base is loaded when the server starts, once per process, never per request.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from importlib import resources
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from psgdiag import __version__
from psgdiag.serve import endpoints
from psgdiag.serve.endpoints import (
    ServerState,
    check_token,
    internal_error,
    json_error,
    parse_time,
    run_job,
    state_of,
)
from psgdiag.serve.forms import Form, read_form
from psgdiag.serve.guard import ApiError, ASGIApp, Guard
from psgdiag.serve.jobs import PageJob
from psgdiag.serve.openapi import openapi_bytes
from psgdiag.serve.page import STATIC_FILES, render_page
from psgdiag.serve.pool import Diagnoser, InlineDiagnoser, ProcessDiagnoser
from psgdiag.serve.settings import SETTINGS_ENV, ServeSettings


def _page(
    request: Request,
    status: int = 200,
    *,
    result_html: str = "",
    error: tuple[str, str] | None = None,
) -> HTMLResponse:
    state = state_of(request)
    html = render_page(
        kb_version=state.diagnoser.kb_version,
        result_html=result_html,
        error=error,
        token_field=bool(state.settings.token),
        unredacted_field=state.settings.allow_unredacted,
    )
    return HTMLResponse(html, status)


async def page_get(request: Request) -> Response:
    """GET /: the empty form."""
    return _page(request)


async def _page_form(request: Request) -> Form:
    media = request.headers.get("content-type", "")
    if media.startswith("multipart/form-data"):
        return await read_form(media, request.stream())
    if media.startswith("application/x-www-form-urlencoded"):
        text = (await request.body()).decode("utf-8", "replace")
        return Form(dict(parse_qsl(text, keep_blank_values=True)), ())
    raise ApiError(415, "the form was not sent as a form", "use the page's Explain button")


async def page_post(request: Request) -> Response:
    """POST /: the form sent; the result (a card, or the triage table) above a fresh form."""
    settings = state_of(request).settings
    try:
        form = await _page_form(request)
        check_token(request, settings, form.fields.get("token", ""))
        unredacted = bool(form.fields.get("unredacted")) and settings.allow_unredacted
        at = parse_time(form.fields.get("at", "").strip())
        job = PageJob(form.fields.get("text", ""), form.uploads, at, redact=not unredacted)
        answer = await run_job(request, job)
    except ApiError as exc:
        return _page(request, exc.status, error=(exc.error, exc.hint))
    except Exception as exc:
        failure = internal_error(exc)
        return _page(request, failure.status, error=(failure.error, failure.hint))
    return _page(request, result_html=answer.html)


@lru_cache(maxsize=len(STATIC_FILES))
def _static_bytes(name: str) -> bytes:
    return resources.files("psgdiag.serve").joinpath("static", name).read_bytes()


async def static(request: Request) -> Response:
    """GET /static/NAME: the page's stylesheet and script, from the package."""
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        return json_error(ApiError(404, f"no static file {name!r}", "see the page at /"))
    headers = {"cache-control": "public, max-age=86400"}
    return Response(_static_bytes(name), media_type=STATIC_FILES[name], headers=headers)


async def healthz(request: Request) -> Response:
    """GET /healthz: 200 when every diagnosis process is up, 503 otherwise."""
    state = state_of(request)
    expected = state.settings.jobs
    alive = state.diagnoser.alive
    ok = alive >= expected
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "kb_version": state.diagnoser.kb_version,
        "diagnosis_processes": alive,
    }
    return Response(json.dumps(body), 200 if ok else 503, media_type="application/json")


async def openapi(request: Request) -> Response:
    """GET /openapi.json: the API description, with the JSON schemas it refers to."""
    return Response(openapi_bytes(), media_type="application/json")


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) as JSON."""
    assert isinstance(exc, HTTPException)
    hints = {404: "see /openapi.json for the routes", 405: "see /openapi.json for the methods"}
    error = {404: f"no such path: {request.url.path}", 405: "method not allowed"}.get(
        exc.status_code, str(exc.detail)
    )
    response = json_error(ApiError(exc.status_code, error, hints.get(exc.status_code, "")))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def create_app(settings: ServeSettings, diagnoser: Diagnoser | None = None) -> ASGIApp:
    """Build the application (wrapped in the guard) for these settings."""
    if diagnoser is None:
        if settings.jobs:
            diagnoser = ProcessDiagnoser(settings.jobs, settings.sig_dirs, settings.time_limit)
        else:
            diagnoser = InlineDiagnoser(settings.sig_dirs, settings.time_limit)
    running = diagnoser

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await running.start()
        try:
            yield
        finally:
            await running.close()

    routes = [
        Route("/", page_get, methods=["GET"]),
        Route("/", page_post, methods=["POST"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1/explain", endpoints.explain, methods=["POST"]),
        Route("/v1/triage", endpoints.triage, methods=["POST"]),
        Route("/v1/signatures", endpoints.signatures, methods=["GET"]),
        Route("/v1/incidents", endpoints.incidents, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error}
    )
    app.state.server = ServerState(settings, diagnoser)

    def page_error(exc: ApiError) -> bytes:
        """The page with the error, for requests the guard refuses before the app sees them."""
        html = render_page(
            kb_version=running.kb_version,
            error=(exc.error, exc.hint),
            token_field=bool(settings.token),
            unredacted_field=settings.allow_unredacted,
        )
        return html.encode("utf-8")

    return Guard(
        app, max_bytes=settings.max_bytes, log_requests=settings.access_log, page_error=page_error
    )


def app_from_env() -> ASGIApp:
    """The factory uvicorn's worker processes call (`--workers` above 1)."""
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        sys.stderr.write(f"psgdiag serve: {SETTINGS_ENV} is not set\n")
        raise SystemExit(2)
    return create_app(ServeSettings.from_env(text))
