"""The reference gateway's provider connections: httpcore's backend keeping each socket, so that a
client that leaves takes the provider call with it (RESIL-007/008)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from typing import Any

import httpcore


class UpstreamSockets(httpcore.SyncBackend):
    """httpcore's own network backend, keeping each provider connection's socket so it can be
    cut."""

    def __init__(self) -> None:
        self.open: list[socket.socket] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        self.open.append(stream.get_extra_info("socket"))
        return stream

    def hang_up(self) -> None:
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def hang_up_when_client_leaves(
    conn: socket.socket, upstream: UpstreamSockets, done: threading.Event
) -> None:
    """While the provider is awaited: if the client hangs up, so does the gateway (closing its
    provider call)."""
    while not done.is_set():
        ready, _, _ = select.select([conn], [], [], 0.05)
        if not ready:
            continue
        try:
            gone = conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            gone = True
        if gone:
            upstream.hang_up()
            return
        time.sleep(0.01)
