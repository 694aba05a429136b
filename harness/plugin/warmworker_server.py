"""The warm-worker server's own process: import the workers' heavy libraries once, then fork each xdist worker.

Every xdist worker is a fresh interpreter that imports the same libraries: the ``anthropic`` SDK's types alone
are 1.3 CPU-seconds, and a run of the suites starts eight workers or more. This server (started by the pytest
controller, see :mod:`harness.plugin.warmworkers`) imports them once; each worker's launcher
(``warmworker_client.py``) hands it its standard streams, command line, folder and environment, and the
server forks a child that becomes ``python -u -c BOOTSTRAP`` with them, as gunicorn's ``--preload`` does for
its workers.

Only third-party libraries are preloaded, never the harness or a pytest plugin: pytest must import those
itself, to rewrite their asserts. Run as a script by the harness's interpreter, standard library only on the
way in. The protocol, one connection per worker: the server sends ``{"env": {...}}`` (the variables an
interpreter reads at start), the client sends its three standard descriptors (one byte, SCM_RIGHTS) then
``{"argv", "cwd", "env"}``; the server answers ``{"pid": N}`` and, when the worker ends, ``{"exit": code}``.
A client that disconnects takes its worker with it; when the server's standard input ends (its owner is
gone) it waits for its workers a little, stops the rest and exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import socket
import sys
import time
import traceback
import types
from typing import IO, Any

PRELOAD = (
    "anthropic",
    "anthropic.types",
    "httpx",
    "pydantic",
    "yaml",
    "psutil",
    "trustme",
    "vcr",
    "cryptography.x509",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "pytest",
    "execnet",
)
# What an interpreter reads from its environment before it runs anything: a worker whose launcher has other
# values starts cold (the client falls back to an ordinary interpreter).
STARTUP_ENV = (
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONWARNINGS",
    "PYTHONOPTIMIZE",
    "PYTHONSAFEPATH",
    "PYTHONNOUSERSITE",
    "PYTHONUTF8",
    "PYTHONIOENCODING",
    "PYTHONDEVMODE",
    "PYTHONMALLOC",
    "PYTHONFAULTHANDLER",
    "PYTHONTRACEMALLOC",
    "PYTHONPYCACHEPREFIX",
    "PYTHONHOME",
    "PYTHONPLATLIBDIR",
    "PYTHONNODEBUGRANGES",
    "PYTHONINTMAXSTRDIGITS",
    "PYTHONUSERBASE",
)
SERVER_PID = os.getpid()
GRACE = 10.0


def startup_env(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in STARTUP_ENV if k in env}


def preload() -> None:
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # a missing library is the worker's to import (or not) itself
            traceback.print_exc(limit=2)


def leave_rewriting_to_pytest() -> None:
    """pytest rewrites the asserts of every package that ships a pytest plugin, and warns when one is already
    imported: ``anyio`` (the SDK's dependency) is. Its package module has no asserts; its plugin module is
    not preloaded, so pytest still imports and rewrites that itself. The documented marker says so."""
    for name in ("anyio",):
        module = sys.modules.get(name)
        if module is not None and "PYTEST_DONT_REWRITE" not in (module.__doc__ or ""):
            module.__doc__ = (module.__doc__ or "") + "\n\nPYTEST_DONT_REWRITE"


def become_worker(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become ``python ARGV`` (``-u -c CODE``, maybe ``-B``) and never return."""
    code: object = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        argv = list(request["argv"])
        source = argv.index("-c") + 1
        sys.argv = ["-c", *argv[source + 1 :]]
        if not sys.flags.safe_path:
            sys.path[0:0] = [""]  # what -c puts first
        sys.dont_write_bytecode = "-B" in argv or bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        exec(compile(argv[source], "<string>", "exec"), main.__dict__)
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
    raise SystemExit(code)


class Server:
    def __init__(self, listener: socket.socket, owner: IO[bytes], wakeup: socket.socket) -> None:
        self.listener, self.owner, self.wakeup = listener, owner, wakeup
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(owner, selectors.EVENT_READ, "owner")
        self.selector.register(wakeup, selectors.EVENT_READ, "child")
        self.hello = (
            json.dumps({"env": startup_env(dict(os.environ)), "names": STARTUP_ENV}) + "\n"
        ).encode()
        self.workers: dict[int, socket.socket] = {}  # pid -> its client's connection
        self.owner_gone = False
        self.give_up_at = float(
            "inf"
        )  # once the owner is gone: when the workers still running are stopped

    def run(self) -> None:
        while not self.owner_gone or self.workers:
            for key, _ in self.selector.select(timeout=1.0 if self.owner_gone else None):
                if key.data == "owner":
                    self.owner_gone = not self.owner.read(4096)
                    if self.owner_gone:
                        self.selector.unregister(self.owner)
                        self.give_up_at = time.monotonic() + GRACE
                elif key.data == "accept":
                    self.accept()
                elif key.data == "child":
                    with contextlib.suppress(OSError):
                        self.wakeup.recv(4096)
                else:  # the launcher ended before its worker (xdist killed it): so does the worker
                    self.stop({key.data})
            self.reap()
            if self.workers and time.monotonic() > self.give_up_at:
                self.stop(set(self.workers))

    def accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (
            OSError
        ):  # out of descriptors, say: that launcher waits out its timeout and starts cold
            return
        conn.settimeout(30)
        fds: list[int] = []
        try:
            conn.sendall(self.hello)
            _, fds, _, _ = socket.recv_fds(conn, 1, 3)
            for fd in (
                fds
            ):  # received descriptors are inheritable: no later worker may hold another's pipes
                os.set_inheritable(fd, False)
            stream = conn.makefile("rb")
            request = json.loads(stream.readline())
            stream.close()
            if len(fds) != 3:
                raise ValueError(f"{len(fds)} descriptors")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except (
            OSError,
            ValueError,
        ):  # a launcher gone mid-handshake, or no fork (memory): not the others' end
            traceback.print_exc(limit=2)
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            conn.close()  # the launcher then starts its worker cold
            return
        if pid == 0:
            self.selector.close()
            for part in (self.listener, self.wakeup, conn, *self.workers.values()):
                part.close()
            self.owner.close()
            become_worker(request, fds)
        for fd in fds:
            os.close(fd)
        self.workers[pid] = conn
        self.selector.register(conn, selectors.EVENT_READ, pid)
        self.tell(conn, {"pid": pid})

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.workers.pop(pid, None)
            if conn is not None:
                self.selector.unregister(conn)
                self.tell(conn, {"exit": os.waitstatus_to_exitcode(status)})
                conn.close()

    def stop(self, pids: set[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @staticmethod
    def tell(conn: socket.socket, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            conn.sendall((json.dumps(message) + "\n").encode())


def main() -> None:
    # Nothing of the harness may be importable before pytest imports it: drop this script's folder.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the workers and the controller
    owner = os.fdopen(os.dup(0), "rb", buffering=0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sys.argv[1])
    listener.listen(64)  # launchers may connect now; they are answered once the imports are done
    preload()
    leave_rewriting_to_pytest()
    # What every worker shares stays out of each one's cyclic collections (and its pages unwritten by them).
    gc.freeze()
    wakeup, waker = socket.socketpair()
    wakeup.setblocking(False)
    waker.setblocking(False)
    signal.set_wakeup_fd(waker.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    server = Server(listener, owner, wakeup)
    try:
        server.run()
    finally:
        if os.getpid() == SERVER_PID:
            server.stop(set(server.workers))


if __name__ == "__main__":
    main()
