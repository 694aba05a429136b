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

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_lock = threading.Lock()
attempts: list[str] = []


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


def _check(sock: socket.socket, address: Any) -> None:
    if not _is_allowed(sock.family, address):
        where = f"{address[0]}:{address[1]}" if isinstance(address, tuple) and len(address) > 1 else str(address)
        with _lock:
            attempts.append(where)
        raise NetworkGuardError(
            f"network guard: the test process tried to connect to {where}. Conformance tests may "
            "only reach loopback (127.0.0.0/8, ::1), where the fake providers and the proxy listen. "
            "A real provider must never be contacted."
        )


def record(where: str) -> None:
    """Remember an attempt made elsewhere (the proxy process, through the egress proxy)."""
    with _lock:
        attempts.append(where)


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _original_connect_ex(self, address)


_depth = 0


def install() -> None:
    # Counted, so a pytest session run inside another (the deviations check collects in-process)
    # does not lift the outer session's guard when it ends.
    global _depth
    with _lock:
        _depth += 1
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]


def uninstall() -> None:
    global _depth
    with _lock:
        _depth = max(0, _depth - 1)
        if _depth:
            return
    socket.socket.connect = _original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]


def installed() -> bool:
    return socket.socket.connect is _guarded_connect
