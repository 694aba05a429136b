"""The fork server's own process: import LiteLLM's proxy once, then fork one real proxy per request.

Run by the interpreter under test (``python zygote.py LOG``), so it uses the standard library only:
that interpreter's environment has LiteLLM, not the harness. Every proxy still starts through
LiteLLM's own command line (``python -m litellm.proxy.proxy_cli``, run by :mod:`runpy` with the
same ``sys.argv``, ``sys.path[0]``, working directory and environment); only the import of
``litellm.proxy.proxy_server``, six CPU-seconds on a small machine, is shared, as gunicorn's
``--preload`` shares it between workers.

Protocol, one JSON object per line: it first writes ``{"ready": true, "preloaded": bool, "error": str}``,
then answers ``{"op": "spawn", "argv", "env", "cwd", "log"}`` with ``{"pid": N}`` and
``{"op": "poll", "pid": N}`` with ``{"returncode": int | null}``. When its input ends (the harness
stopped it, or died) it stops every proxy it forked, so none outlives the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import signal
import sys
import time
import traceback
from typing import IO, Any

PRELOAD = "litellm.proxy.proxy_server"
ZYGOTE_PID = os.getpid()


def preload() -> str:
    """Import the proxy's heavy module; the error text if it fails (each proxy then imports it itself)."""
    try:
        __import__(PRELOAD)
    except BaseException:  # a broken install is the proxy's to report, in its own log
        return traceback.format_exc(limit=3)
    return ""


def run_proxy(request: dict[str, Any], channels: tuple[IO[str], IO[str]]) -> None:
    """In the forked child: become ``python -m litellm.proxy.proxy_cli ARGS`` and never return."""
    code: object = 1
    try:
        os.setsid()  # its own process group, as the harness's launcher gives every proxy
        for channel in channels:
            channel.close()
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


def reap(children: dict[int, int | None]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children[pid] = os.waitstatus_to_exitcode(status)


def stop_children(children: dict[int, int | None]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, code in children.items():
            if code is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, sig)
        deadline = time.monotonic() + 5
        while any(c is None for c in children.values()) and time.monotonic() < deadline:
            reap(children)
            time.sleep(0.05)


def serve(incoming: IO[str], outgoing: IO[str]) -> None:
    children: dict[int, int | None] = {}
    error = preload()
    outgoing.write(json.dumps({"ready": True, "preloaded": not error, "error": error}) + "\n")
    try:
        for line in incoming:
            reap(children)
            request = json.loads(line)
            if request["op"] == "spawn":
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    run_proxy(request, (incoming, outgoing))
                children[pid] = None
                outgoing.write(json.dumps({"pid": pid}) + "\n")
            elif request["op"] == "poll":
                outgoing.write(json.dumps({"returncode": children.get(int(request["pid"]))}) + "\n")
    finally:
        if os.getpid() == ZYGOTE_PID:
            stop_children(children)


def main() -> None:
    # Nothing of the harness may be importable by the proxies: drop this script's folder.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
    incoming = os.fdopen(os.dup(0), "r")
    outgoing = os.fdopen(os.dup(1), "w", buffering=1)
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # what LiteLLM prints while importing goes to the fork server's log, not the protocol
    os.dup2(log, 2)
    serve(incoming, outgoing)


if __name__ == "__main__":
    main()
