"""How a server runs: address, limits, token and workers, checked once before it starts."""

from __future__ import annotations

import ipaddress
import json
import os
import socket

from psgdiag.errors import UsageError
from psgdiag.record import record, replace

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIME_LIMIT = 30.0
TOKEN_ENV = "PSGDIAG_SERVE_TOKEN"
#: Carries the settings to uvicorn worker processes (`--workers` above 1 starts them by name).
SETTINGS_ENV = "PSGDIAG_SERVE_SETTINGS"


@record
class ServeSettings:
    """Everything a running server needs to know; built by the CLI, read by the app."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str = ""  # empty: no token is asked for
    allow_unredacted: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    time_limit: float = DEFAULT_TIME_LIMIT
    jobs: int = 1  # diagnosis processes per server process; 0 diagnoses in the server process
    workers: int = 1  # uvicorn server processes
    sig_dirs: tuple[str, ...] = ()
    access_log: bool = True

    def to_env(self) -> str:
        """Serialise for the environment of uvicorn's worker processes."""
        data = {name: getattr(self, name) for name in type(self).__annotations__}
        data["sig_dirs"] = list(self.sig_dirs)
        return json.dumps(data)

    @classmethod
    def from_env(cls, text: str) -> ServeSettings:
        """Read back what to_env wrote."""
        data = json.loads(text)
        data["sig_dirs"] = tuple(data.get("sig_dirs", ()))
        return cls(**data)


def is_loopback(host: str) -> bool:
    """Return True when every address the host name resolves to is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def checked(settings: ServeSettings, *, no_token: bool) -> ServeSettings:
    """Validate the settings; a non-loopback address needs a token or an explicit --no-token."""
    if not 0 <= settings.port <= 65535:
        raise UsageError(f"--port {settings.port} is not a TCP port", hint="use 1-65535, or 0")
    if settings.max_bytes < 1024:
        raise UsageError("--max-bytes must be at least 1024", hint="the default is 20 MB")
    if settings.time_limit <= 0:
        raise UsageError("--time-limit must be more than 0 seconds", hint="the default is 30")
    if settings.jobs < 0 or settings.workers < 1:
        raise UsageError("--jobs must be 0 or more and --workers 1 or more", hint="see --help")
    token = settings.token or os.environ.get(TOKEN_ENV, "")
    if token and no_token:
        raise UsageError("both a token and --no-token were given", hint="drop one of them")
    if token and len(token) < 16:
        raise UsageError("the token is shorter than 16 characters", hint="use a long random one")
    if not token and not no_token and not is_loopback(settings.host):
        raise UsageError(
            f"{settings.host} is reachable from other machines, and no token was given",
            hint=f"set {TOKEN_ENV} (or --token), or pass --no-token to serve without one",
        )
    return replace(settings, token=token)
