"""An xdist worker's launcher: ``python -S warmworker_client.py SOCKET -u -c BOOTSTRAP``.

execnet starts each worker as ``PYTHON -u -c BOOTSTRAP``; with the warm-worker server on, PYTHON is
this script (see :mod:`harness.plugin.warmworkers`). It hands the server its standard streams, its
arguments, its folder and its environment, waits for the worker the server forks, and exits with its
exit code. Where the server cannot be used (gone, or started with other interpreter settings) it
becomes the ordinary interpreter instead: the worker then starts cold, exactly as without the
server."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from typing import NoReturn

CONNECT_TIMEOUT = 3.0
HELLO_TIMEOUT = (
    60.0  # the server answers once its imports are done: a few seconds on a busy machine
)


def cold(argv: list[str]) -> NoReturn:
    os.execv(sys.executable, [sys.executable, *argv])


def connect(conn: socket.socket, path: str) -> None:
    """The server's socket may be a moment from existing; none after a few seconds means no
    server."""
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            conn.connect(path)
            return
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def main() -> int:
    path, argv = sys.argv[1], sys.argv[2:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connect(conn, path)
        conn.settimeout(HELLO_TIMEOUT)
        stream = conn.makefile("rb")
        hello = json.loads(stream.readline() or b"null")
    except (OSError, ValueError):
        hello = None
    if not isinstance(hello, dict) or hello.get("env") != {
        k: os.environ[k] for k in hello.get("names", ()) if k in os.environ
    }:
        conn.close()
        cold(argv)
    request = {"op": "spawn", "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    data = (json.dumps(request) + "\n").encode()
    try:
        sent = socket.send_fds(conn, [data], [0, 1, 2])  # the streams come with the request
        conn.sendall(data[sent:])
        pid = int(json.loads(stream.readline())["pid"])
    except (OSError, ValueError, KeyError):
        # No pid: the server could not fork (or is gone) and has forked nothing: start cold.
        conn.close()
        cold(argv)
    conn.settimeout(None)

    def forward(signum: int, _frame: object) -> None:
        # execnet stops a worker that will not exit by signalling its process: this one.
        os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    # A Ctrl-C reaches the worker itself, in the same group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answer = stream.readline()
    code = int(json.loads(answer)["exit"]) if answer else 1
    if code < 0:  # killed by a signal: end the same way, for execnet to see
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main())
