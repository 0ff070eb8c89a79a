"""The server's outer layer: size limit, security headers, and a log line of counts only.

A plain ASGI middleware (no per-request task or body copy). A request whose Content-Length is
over the limit is answered 413 before its body is read; a body that grows past the limit
while streaming (chunked) stops with the same answer. The log line names the method, the path
(never the query), the status and byte counts: nothing of what was sent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG = logging.getLogger("psgdiag.serve")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class ApiError(Exception):
    """An answer other than success: HTTP status, one sentence, and a hint."""

    def __init__(self, status: int, error: str, hint: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.hint = hint


class RequestTooLarge(ApiError):
    """The request body is larger than the server accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request is larger than this server accepts ({limit} bytes)",
            "send only the failed command's output, or start the server with a larger --max-bytes",
        )


def error_body(exc: ApiError) -> bytes:
    """Return the JSON body of an error answer."""
    return json.dumps({"error": exc.error, "hint": exc.hint}).encode("utf-8")


class Guard:
    """Wraps the app: enforces the size limit, adds security headers, logs counts."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        log_requests: bool,
        page_error: Callable[[ApiError], bytes],
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.log_requests = log_requests
        self.page_error = page_error

    async def _refuse(self, scope: Scope, send: Send, exc: ApiError) -> None:
        page = scope.get("path") == "/"
        body = self.page_error(exc) if page else error_body(exc)
        ctype = b"text/html; charset=utf-8" if page else b"application/json"
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        # The body was not read: the connection cannot be reused for another request.
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request (other scope types pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        counts = {"in": 0, "out": 0, "status": 0}
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")

        async def limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counts["in"] += len(message.get("body", b""))
                if counts["in"] > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
                headers = [*message.get("headers", ()), *SECURITY_HEADERS]
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                counts["out"] += len(message.get("body", b""))
            await send(message)

        try:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, with_headers, RequestTooLarge(self.max_bytes))
            else:
                await self.app(scope, limited, with_headers)
        finally:
            if self.log_requests:
                ms = (time.perf_counter() - started) * 1000
                LOG.info(
                    "%s %s %d in=%dB out=%dB %.0fms",
                    scope.get("method", ""),
                    scope.get("path", ""),
                    counts["status"],
                    counts["in"],
                    counts["out"],
                    ms,
                )
