"""Start the server: bind the address, then run uvicorn (one process, or several workers).

The socket is bound here, before uvicorn starts, so a port in use is one clear error and
`--port 0` tells the real port. Ctrl-C and SIGTERM stop the server gracefully with exit 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from types import FrameType

import uvicorn

from psgdiag.errors import ExitCode, NetworkError, PsgdiagError
from psgdiag.record import replace
from psgdiag.serve.app import create_app
from psgdiag.serve.settings import SETTINGS_ENV, ServeSettings

GRACEFUL_SECONDS = 10  # in-flight requests get this long to finish when the server stops


class _Stopped(Exception):
    """SIGTERM arrived (uvicorn re-raises it after its graceful shutdown)."""


def bind(host: str, port: int) -> socket.socket:
    """Return a socket bound to the address; raise NetworkError when that is impossible."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise NetworkError(
            f"cannot use the address {host} ({exc.strerror or exc})", hint="check --host"
        ) from None
    try:
        if os.name != "nt":  # on Windows the option lets a second server share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise NetworkError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            hint="choose another --port, or stop the program that uses it",
        ) from None
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int) -> str:
    """Return the address people open in a browser."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _log_to_stderr(enabled: bool) -> None:
    log = logging.getLogger("psgdiag.serve")
    log.setLevel(logging.INFO if enabled else logging.WARNING)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
        log.addHandler(handler)
    log.propagate = False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


def run(settings: ServeSettings, announce: bool = True) -> None:
    """Serve until stopped; raise PsgdiagError when the server cannot start."""
    sock = bind(settings.host, settings.port)
    port = int(sock.getsockname()[1])
    if announce:
        mode = f"{settings.jobs} diagnosis process(es)" if settings.jobs else "in-process diagnosis"
        workers = f", {settings.workers} server workers" if settings.workers > 1 else ""
        sys.stderr.write(
            f"psgdiag serve: listening on {url_of(settings.host, port)} ({mode}{workers}; "
            f"token {'required' if settings.token else 'off'}; Ctrl-C stops)\n"
        )
        sys.stderr.flush()
    _log_to_stderr(settings.access_log)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if settings.workers > 1:
            sock.close()  # uvicorn binds the same port again, for its worker processes
            os.environ[SETTINGS_ENV] = replace(settings, port=port).to_env()
            uvicorn.run(
                "psgdiag.serve.app:app_from_env",
                factory=True,
                host=settings.host,
                port=port,
                workers=settings.workers,
                log_level="warning",
                access_log=False,  # psgdiag.serve.guard logs counts only, never a query
                lifespan="on",
                server_header=False,
                timeout_graceful_shutdown=GRACEFUL_SECONDS,
            )
            return
        config = uvicorn.Config(
            create_app(settings),
            log_level="warning",
            access_log=False,
            lifespan="on",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        if not server.started:
            raise PsgdiagError(
                "the server stopped while starting",
                hint="the lines above say why; run again with --debug",
                code=ExitCode.INTERNAL,
            )
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        sock.close()
