"""Refuse every outbound connection from the test process that is not to loopback.

A conformance run must never reach a real provider, even by accident (a config
with a real ``api_base``, an SDK default URL). The guard patches
``socket.socket.connect``/``connect_ex`` so such an attempt raises
:class:`NetworkGuardError` at once, and it remembers every attempt so the
plugin can fail the test even when the caller swallowed the error.

The proxy subprocess cannot be patched this way (it runs uvloop, whose sockets
live in C); it is kept on loopback by the config check in ``gateways``, and the
provider-route gateway also goes out only through the egress proxy
(:mod:`harness.fakes.egress`), which refuses anything else and hands it to :func:`record`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any


class NetworkGuardError(ConnectionRefusedError):
    """A test tried to connect somewhere other than loopback."""


def is_loopback_host(host: str) -> bool:
    """localhost or a loopback address; any other hostname is refused rather than resolved."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_allowed(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    return isinstance(address, tuple) and bool(address) and is_loopback_host(str(address[0]))


class Guard:
    """One session's guard: it refuses, and it keeps the attempts it refused (or was told of) for
    that session.

    Guards stack: a pytest session run inside another (pytester, the deviations check's collection)
    installs its own over the outer one and, on uninstall, puts the outer one back. Nothing is kept
    at module level, so a second session in the same process starts with no attempts.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._lock = threading.Lock()
        self._below: tuple[Any, Any] | None = None

    def record(self, where: str) -> None:
        """Remember an attempt made elsewhere (the proxy process, through the egress proxy)."""
        with self._lock:
            self.attempts.append(where)

    def _check(self, sock: socket.socket, address: Any) -> None:
        if _is_allowed(sock.family, address):
            return
        where = (
            f"{address[0]}:{address[1]}"
            if isinstance(address, tuple) and len(address) > 1
            else str(address)
        )
        self.record(where)
        raise NetworkGuardError(
            f"network guard: the test process tried to connect to {where}. Conformance tests "
            "may only reach loopback (127.0.0.0/8, ::1), where the fake providers and the proxy "
            "listen. "
            "A real provider must never be contacted."
        )

    def install(self) -> Guard:
        connect, connect_ex = self._below = (socket.socket.connect, socket.socket.connect_ex)

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            self._check(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            self._check(sock, address)
            return int(connect_ex(sock, address))

        guarded_connect.guard = self  # type: ignore[attr-defined]
        socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
        return self

    def uninstall(self) -> None:
        if self._below is not None:
            socket.socket.connect, socket.socket.connect_ex = self._below  # type: ignore[method-assign]
            self._below = None


def installed() -> Guard | None:
    """The guard in force in this process, if any."""
    return getattr(socket.socket.connect, "guard", None)
