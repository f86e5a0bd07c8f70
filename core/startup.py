"""Start-up failures: what stops the process before it serves, said in one or two lines.

Whoever meets the failure (the settings, the database, a messenger's adapter) raises one of
these with a message naming the setting and the fix; the command line prints it as it is,
without a traceback, and exits with the error's code. A message never holds a secret: it is
built from names and hosts, never from a library's own message about a token or a URL.
"""

from __future__ import annotations

import socket
import ssl


class StartupError(Exception):
    """The process cannot start as configured (a wrong token, a wrong URL): starting it again
    unchanged will fail again."""

    exit_code = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(f"{problem}\n  {fix}" if fix else problem)


class ServiceUnreachable(StartupError):
    """A service the settings name did not answer: it may come back by itself, so a supervisor
    may start the process again later."""

    exit_code = 3


def network_reason(exc: BaseException) -> str:
    """A few words for why a connection failed, from the OS error in the exception's chain
    (libraries wrap it, and their own messages may quote a URL with a token in it)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for kind, words in ((ConnectionRefusedError, "connection refused"), (socket.gaierror, "host name not found"),
                        (TimeoutError, "no answer in time"), (ssl.SSLError, "TLS handshake failed")):
        if any(isinstance(e, kind) for e in chain):
            return words
    said = [e.strerror for e in chain if isinstance(e, OSError) and e.strerror]
    return said[-1].lower() if said else type(exc).__name__
