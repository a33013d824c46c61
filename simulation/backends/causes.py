"""Words for why an endpoint could not be reached: the OS error under an HTTP library's exception, with its errno.

``aiohttp``'s ``ClientConnectorError`` and the SDK's ``APIConnectionError`` say only their class name; a researcher
needs "connection refused at 127.0.0.1:9 (errno 111)" to know the server is down rather than the key wrong.
"""

from __future__ import annotations

import errno as errno_codes
import socket
from urllib.parse import urlsplit

_WORDS = {
    errno_codes.ECONNREFUSED: "connection refused",
    errno_codes.ECONNRESET: "connection reset",
    errno_codes.ECONNABORTED: "connection aborted",
    errno_codes.ETIMEDOUT: "connection timed out",
    errno_codes.EHOSTUNREACH: "host unreachable",
    errno_codes.ENETUNREACH: "network unreachable",
    errno_codes.EADDRNOTAVAIL: "address not available",
}


def host_port(url: str) -> str:
    """``host:port`` of a URL, the port spelled out even when it is the scheme's default."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or url}:{port}"


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def describe_connection_failure(error: BaseException, url: str) -> str:
    """The cause of a failed connection to ``url`` in words, with the errno when the OS gave one."""
    where = host_port(url)
    for cause in _chain(error):
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed for {where} ({cause.strerror or cause}, gaierror {cause.errno})"
        if isinstance(cause, TimeoutError) and cause.errno is None:
            return f"no answer from {where} in time (timeout)"
        if isinstance(cause, OSError) and cause.errno:
            words = _WORDS.get(cause.errno) or (cause.strerror or errno_codes.errorcode.get(cause.errno, "")).lower()
            if "name or service" in words or "nodename" in words:  # aiohttp re-raises gaierror as OSError
                return f"DNS lookup failed for {where} ({cause.strerror}, errno {cause.errno})"
            return f"{words or 'OS error'} at {where} (errno {cause.errno})"
    return f"{type(error).__name__} at {where}" + (f": {error}" if str(error) else "")
