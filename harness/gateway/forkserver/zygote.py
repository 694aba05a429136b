"""The fork server's own process: import LiteLLM's proxy once, then fork one real proxy per request.

Run by the interpreter under test (``python zygote.py LOG SOCKET``), so it uses the standard library
only: that interpreter's environment has LiteLLM, not the harness. Every proxy still starts through
LiteLLM's own command line (``python -m litellm.proxy.proxy_cli``, run by :mod:`runpy` with the same
``sys.argv``, ``sys.path[0]``, working directory and environment); only the import of
``litellm.proxy.proxy_server``, six CPU-seconds on a small machine, is shared, as gunicorn's
``--preload`` shares it between workers.

Clients (the pytest process that started it, and its xdist workers) connect to the Unix socket and
speak one JSON object per line. On connecting, a client reads ``{"preloaded": bool, "error": str}``;
then ``{"op": "spawn", "argv", "env", "cwd", "log", "nice"}`` gets ``{"pid": N}`` (the child lowers
its priority to ``nice`` before it runs LiteLLM), and ``{"op": "poll", "pid": N}`` gets
``{"returncode": int | null}``. A client that disconnects takes its proxies with it; when the
server's standard input ends (its owner stopped it, or died) it stops every proxy and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import time
import traceback
from typing import IO, Any

PRELOAD = "litellm.proxy.proxy_server"
ZYGOTE_PID = os.getpid()


# Modules LiteLLM imports on a proxy's first request; none reads the environment or a config on import.
# (Its default tokenizer does, TIKTOKEN_CACHE_DIR, so it stays the proxy's to load.)
WARM_IMPORTS = ("litellm.integrations.shadow_eval_logger",)

PRELOADED = "preloaded"  # a file beside the socket: the import is over, proxies may exist


def preload() -> str:
    """Import the proxy's heavy module; the error text if it fails (each proxy then imports it itself)."""
    try:
        __import__(PRELOAD)
    except BaseException:  # a broken install is the proxy's to report, in its own log
        return traceback.format_exc(limit=3)
    return ""


def warm() -> None:
    """Build what the proxy's app otherwise builds on its first request, once, before any fork.

    FastAPI 0.16x prepares every included route's handler lazily, on the first request that matches
    a path: a CPU-second per proxy, the same for every config. Matching a path no route has walks them
    all. Nothing is served and no config is read; an app without lazy routes just matches nothing.
    """
    for name in WARM_IMPORTS:
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(
        Exception
    ):  # a cache of code-only facts: which handler translates which route
        sys.modules["litellm.llms"].load_guardrail_translation_mappings()
    try:
        app = sys.modules[PRELOAD].app
        scope = {
            "type": "http",
            "path": "/__cc_gateway_warm__",
            "root_path": "",
            "method": "GET",
            "headers": [],
            "query_string": b"",
        }
        for route in app.router.routes:
            route.matches(dict(scope))
    except Exception:  # warming is an optimisation; the proxy builds the same state itself
        traceback.print_exc(limit=3)


def run_proxy(request: dict[str, Any], selector: selectors.BaseSelector) -> None:
    """In the forked child: become ``python -m litellm.proxy.proxy_cli ARGS`` and never return."""
    code: object = 1
    try:
        os.setsid()  # its own process group, as the harness's launcher gives every proxy
        os.nice(max(0, int(request.get("nice", 0)) - os.nice(0)))
        for key in list(selector.get_map().values()):
            for part in (key.fileobj, key.data):
                if hasattr(part, "close"):
                    part.close()
        selector.close()
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        sys.path[0] = request["cwd"]  # what -m puts first: LiteLLM finds custom_auth modules there
        runpy.run_module("litellm.proxy.proxy_cli", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
    # A normal interpreter exit, so LiteLLM's atexit handlers run as they would under -m.
    raise SystemExit(code)


class Server:
    def __init__(self, listener: socket.socket, owner: IO[str], hello: dict[str, Any]) -> None:
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(owner, selectors.EVENT_READ, "owner")
        self.hello = json.dumps(hello) + "\n"
        self.returncodes: dict[int, int | None] = {}
        self.owned: dict[socket.socket, set[int]] = {}

    def run(self) -> None:
        try:
            while True:
                for key, _ in self.selector.select():
                    if key.data == "owner" and not key.fileobj.readline():  # type: ignore[union-attr]
                        return
                    if key.data == "accept":
                        self.accept(key.fileobj)  # type: ignore[arg-type]
                    elif key.data != "owner":
                        self.serve(key.fileobj, key.data)  # type: ignore[arg-type]
        finally:
            if os.getpid() == ZYGOTE_PID:
                self.stop({pid for pids in self.owned.values() for pid in pids})

    def accept(self, listener: socket.socket) -> None:
        conn, _ = listener.accept()
        stream = conn.makefile("rw")
        stream.write(self.hello)
        stream.flush()
        self.owned[conn] = set()
        self.selector.register(conn, selectors.EVENT_READ, stream)

    def serve(self, conn: socket.socket, stream: IO[str]) -> None:
        self.reap()
        try:
            line = stream.readline()
        except OSError:
            line = ""
        if not line:  # the client is gone, and its proxies with it
            self.selector.unregister(conn)
            self.stop(self.owned.pop(conn))
            stream.close()
            conn.close()
            return
        request = json.loads(line)
        if request["op"] == "spawn":
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                run_proxy(request, self.selector)
            self.returncodes[pid] = None
            self.owned[conn].add(pid)
            answer: dict[str, Any] = {"pid": pid}
        else:
            answer = {"returncode": self.returncodes.get(int(request["pid"]))}
        with contextlib.suppress(OSError):
            stream.write(json.dumps(answer) + "\n")
            stream.flush()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.returncodes[pid] = os.waitstatus_to_exitcode(status)

    def stop(self, pids: set[int]) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                if self.returncodes.get(pid) is None:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, sig)
            deadline = time.monotonic() + 5
            while (
                any(self.returncodes.get(p) is None for p in pids) and time.monotonic() < deadline
            ):
                self.reap()
                time.sleep(0.05)


def main() -> None:
    # Nothing of the harness may be importable by the proxies: drop this script's folder.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    log_path, socket_path = sys.argv[1], sys.argv[2]
    owner = os.fdopen(os.dup(0), "r")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # what LiteLLM prints while importing goes to the fork server's log
    os.dup2(log, 2)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)  # clients may connect now; they are answered once LiteLLM is imported
    try:
        error = preload()
        if not error:
            warm()
        # From here on it may fork; before, its owner may simply kill it (ForkServer.stop).
        open(os.path.join(os.path.dirname(socket_path), PRELOADED), "w").close()
        Server(listener, owner, {"preloaded": not error, "error": error}).run()
    finally:
        if os.getpid() == ZYGOTE_PID:
            with contextlib.suppress(OSError):
                os.unlink(socket_path)


if __name__ == "__main__":
    main()
