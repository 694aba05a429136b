"""The run's one fork server: import a program's heavy libraries once, then fork each process of it.

``python -u zygote.py PROFILE SOCKET [LOG]``. Two programs start many interpreters that import the
same libraries, and both are served by this one program (issue 38: there were two fork servers):

- ``litellm``: one per LiteLLM interpreter under test. It imports ``litellm.proxy.proxy_server``
  (six CPU-seconds on a 2-core machine), warms what a proxy builds on its first request, and forks
  each proxy, which then runs LiteLLM's own command line, ``-m litellm.proxy.proxy_cli ARGS``,
  unchanged.
- ``workers``: the pytest controller's, for its xdist workers. It imports the workers' third-party
  libraries (the ``anthropic`` SDK's types alone are 1.3 CPU-seconds) and forks each worker, which
  becomes ``-u -c BOOTSTRAP`` with its launcher's standard streams. Never the harness or a pytest
  plugin: pytest imports those itself, to rewrite their asserts.

This is gunicorn's ``--preload``. The script runs in the interpreter it serves (LiteLLM's own
environment for proxies), so it uses the standard library only.

The protocol, one JSON object per line on a Unix socket. On connecting, a client reads the hello
``{"preloaded": bool, "error": str, "env": {...}, "names": [...]}`` (``env``: the variables an
interpreter reads at start, which a worker's launcher compares with its own). It then sends
``{"op": "spawn", "argv", "env", "cwd", "log"?, "nice"?, "session"?}``, with its three standard
descriptors attached (SCM_RIGHTS) when it has no ``log``, and reads ``{"pid": N}``; when that child
ends, the server sends ``{"exit": code, "pid": N}`` to the same connection.
``{"op": "poll", "pid"}`` gets ``{"returncode": int | null}``. A client that disconnects takes its
children with it; when the server's standard input ends (its owner stopped or died) it gives its
children the profile's grace, stops the rest and exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import time
import traceback
import types
from dataclasses import dataclass
from typing import IO, Any

ZYGOTE_PID = os.getpid()
PRELOADED = "preloaded"  # a file beside the socket: the imports are over, children may exist
MAX_MESSAGE = 1 << 20

# Modules LiteLLM imports on a proxy's first request; none reads the environment or a config on
# import. (Its default tokenizer does, TIKTOKEN_CACHE_DIR, so it stays the proxy's to load.)
WARM_IMPORTS = ("litellm.integrations.shadow_eval_logger",)
PRELOAD = "litellm.proxy.proxy_server"
# fmt: off
WORKER_PRELOAD = ("anthropic", "anthropic.types", "httpx", "pydantic", "yaml", "psutil", "trustme",
                  "vcr", "cryptography.x509", "cryptography.hazmat.primitives.asymmetric.rsa",
                  "pytest", "execnet")
# fmt: on
# What an interpreter reads from its environment before it runs anything: a worker whose launcher
# has other values starts cold (its launcher falls back to an ordinary interpreter).
# fmt: off
STARTUP_ENV = ("PYTHONPATH", "PYTHONHASHSEED", "PYTHONWARNINGS", "PYTHONOPTIMIZE",
               "PYTHONSAFEPATH", "PYTHONNOUSERSITE", "PYTHONUTF8", "PYTHONIOENCODING",
               "PYTHONDEVMODE", "PYTHONMALLOC", "PYTHONFAULTHANDLER", "PYTHONTRACEMALLOC",
               "PYTHONPYCACHEPREFIX", "PYTHONHOME", "PYTHONPLATLIBDIR", "PYTHONNODEBUGRANGES",
               "PYTHONINTMAXSTRDIGITS", "PYTHONUSERBASE")
# fmt: on


@dataclass(frozen=True)
class Profile:
    preload: tuple[str, ...]
    required: bool  # a failed import means no child may be forked (the client then execs its own)
    grace: float  # once the owner is gone: how long children may go on before they are stopped


PROFILES = {
    "litellm": Profile((PRELOAD,), required=True, grace=0.0),
    "workers": Profile(WORKER_PRELOAD, required=False, grace=10.0),
}


def startup_env(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in STARTUP_ENV if k in env}


def preload(profile: Profile) -> str:
    """Import the profile's modules; the first error's text (each child then imports it itself)."""
    error = ""
    for name in profile.preload:
        try:
            __import__(name)
        except BaseException:  # a broken install is the child's to report, in its own log
            error = error or traceback.format_exc(limit=3)
    return error


def warm() -> None:
    """Build what LiteLLM's proxy app otherwise builds on its first request, once, before any fork.

    FastAPI 0.16x prepares every included route's handler lazily, on the first request that
    matches a path: a CPU-second per proxy, the same for every config. Matching a path no route has
    walks them all. Nothing is served and no config is read; an app without lazy routes just matches
    nothing.
    """
    for name in WARM_IMPORTS:
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(Exception):  # a cache of code-only facts: which handler serves a route
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


def leave_rewriting_to_pytest() -> None:
    """pytest rewrites the asserts of every package that ships a pytest plugin, and warns when one
    is already imported: ``anyio`` (the SDK's dependency) is. Its package module has no asserts; its
    plugin module is not preloaded, so pytest still imports and rewrites that itself. The documented
    marker says so."""
    for name in ("anyio",):
        module = sys.modules.get(name)
        if module is not None and "PYTEST_DONT_REWRITE" not in (module.__doc__ or ""):
            module.__doc__ = (module.__doc__ or "") + "\n\nPYTEST_DONT_REWRITE"


def become(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become ``python ARGV`` (``-m MODULE ...`` or ``-c CODE ...``)."""
    code: object = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if request.get("session"):
            os.setsid()  # its own process group, as the harness's launcher gives every proxy
        os.nice(max(0, int(request.get("nice", 0)) - os.nice(0)))
        _standard_streams(request, fds)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _run(list(request["argv"]))
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
    # A normal interpreter exit, so the program's atexit handlers run as they would under python.
    raise SystemExit(code)


def _standard_streams(request: dict[str, Any], fds: list[int]) -> None:
    if "log" in request:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fds = [os.open(os.devnull, os.O_RDONLY), log, log]
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds):
        os.close(fd)


def _run(argv: list[str]) -> None:
    sys.dont_write_bytecode = "-B" in argv or bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    if "-m" in argv:
        at = argv.index("-m") + 1
        sys.argv = argv[at:]
        sys.path[0] = os.getcwd()  # what -m puts first: LiteLLM finds custom_auth modules there
        runpy.run_module(argv[at], run_name="__main__", alter_sys=True)
        return
    at = argv.index("-c") + 1
    sys.argv = ["-c", *argv[at + 1 :]]
    if not sys.flags.safe_path:
        sys.path[0:0] = [""]  # what -c puts first
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    exec(compile(argv[at], "<string>", "exec"), main.__dict__)


@dataclass(eq=False)
class Client:
    conn: socket.socket
    buffer: bytes = b""
    fds: tuple[int, ...] = ()


class Server:
    def __init__(
        self,
        listener: socket.socket,
        owner: IO[bytes],
        wakeup: socket.socket,
        profile: Profile,
        hello: dict[str, Any],
    ) -> None:
        self.listener, self.owner, self.wakeup, self.profile = listener, owner, wakeup, profile
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(owner, selectors.EVENT_READ, "owner")
        self.selector.register(wakeup, selectors.EVENT_READ, "child")
        self.hello = (json.dumps(hello) + "\n").encode()
        self.children: dict[int, Client] = {}  # pid -> the client that asked for it
        self.exits: dict[int, int] = {}
        self.give_up_at: float | None = None  # set once the owner is gone

    def run(self) -> None:
        while self.give_up_at is None or self.children:
            timeout = None if self.give_up_at is None else 0.5
            for key, _ in self.selector.select(timeout=timeout):
                if key.data == "owner":
                    self.owner_read()
                elif key.data == "accept":
                    self.accept()
                elif key.data == "child":
                    with contextlib.suppress(OSError):
                        self.wakeup.recv(4096)
                else:
                    self.serve(key.data)
            self.reap()
            if self.give_up_at is not None and time.monotonic() >= self.give_up_at:
                self.stop(set(self.children))

    def owner_read(self) -> None:
        if not self.owner.read(4096):
            self.selector.unregister(self.owner)
            self.give_up_at = time.monotonic() + self.profile.grace

    def accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:  # out of descriptors, say: that client waits out its timeout, starts cold
            return
        client = Client(conn)
        self.selector.register(conn, selectors.EVENT_READ, client)
        self.tell(client, None)

    def serve(self, client: Client) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(client.conn, 65536, 3)
        except OSError:
            data, fds = b"", []
        for fd in fds:  # received descriptors are inheritable: no later child may hold another's
            os.set_inheritable(fd, False)
        client.fds += tuple(fds)
        client.buffer += data
        if not data or len(client.buffer) > MAX_MESSAGE:  # gone, and its children with it
            self.drop(client)
            return
        while b"\n" in client.buffer:
            line, client.buffer = client.buffer.split(b"\n", 1)
            self.answer(client, json.loads(line))

    def answer(self, client: Client, request: dict[str, Any]) -> None:
        if request.get("op") == "poll":
            self.reap()
            pid = int(request["pid"])
            self.tell(client, {"returncode": self.exits.get(pid)})
            return
        fds, client.fds = list(client.fds), ()
        try:
            if "log" not in request and len(fds) != 3:
                raise ValueError(f"{len(fds)} descriptors, and no log")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except (OSError, ValueError):  # no fork (memory), a bad request: that client starts cold
            traceback.print_exc(limit=2)
            self.close_fds(fds)
            self.tell(client, {"error": "no fork"})
            return
        if pid == 0:
            self.close_all()
            become(request, fds)
        self.close_fds(fds)
        self.children[pid] = client
        self.tell(client, {"pid": pid})

    def close_all(self) -> None:
        """In a child: none of the server's sockets, nor another client's descriptors."""
        clients = [k.data for k in self.selector.get_map().values() if isinstance(k.data, Client)]
        self.selector.close()
        for client in clients:
            self.close_fds(list(client.fds))
            client.conn.close()
        for part in (self.listener, self.wakeup, self.owner):
            part.close()

    def drop(self, client: Client) -> None:
        self.selector.unregister(client.conn)
        self.close_fds(list(client.fds))
        self.stop({pid for pid, c in self.children.items() if c is client})
        client.conn.close()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exits[pid] = code = os.waitstatus_to_exitcode(status)
            client = self.children.pop(pid, None)
            if client is not None:
                self.tell(client, {"exit": code, "pid": pid})

    def stop(self, pids: set[int]) -> None:
        """SIGTERM, five seconds to end, then SIGKILL: each child's whole group if it leads one."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                if pid in self.children:
                    self.signal(pid, sig)
            deadline = time.monotonic() + 5
            while pids & set(self.children) and time.monotonic() < deadline:
                self.reap()
                time.sleep(0.05)

    @staticmethod
    def signal(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    @staticmethod
    def close_fds(fds: list[int]) -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    def tell(self, client: Client, message: dict[str, Any] | None) -> None:
        data = self.hello if message is None else (json.dumps(message) + "\n").encode()
        with contextlib.suppress(OSError):
            client.conn.sendall(data)


def main() -> None:
    profile_name, socket_path = sys.argv[1], sys.argv[2]
    profile = PROFILES[profile_name]
    # Nothing of the harness may be importable by the children before they import it: drop this
    # script's folder.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the children and the owner
    owner = os.fdopen(os.dup(0), "rb", buffering=0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    if len(sys.argv) > 3:  # what the imports print goes to the server's log
        log = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)  # clients may connect now; they are answered once the imports are done
    server = None
    try:
        error = preload(profile)
        if profile_name == "litellm" and not error:
            warm()
        if profile_name == "workers":
            leave_rewriting_to_pytest()
        # What every child shares stays out of each one's cyclic collections (and its pages
        # unwritten by them).
        gc.freeze()
        # From here on it may fork; before, its owner may simply kill it (ForkServer.stop).
        open(os.path.join(os.path.dirname(socket_path), PRELOADED), "w").close()
        wakeup, waker = socket.socketpair()
        wakeup.setblocking(False)
        waker.setblocking(False)
        signal.set_wakeup_fd(waker.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)
        hello = {
            "preloaded": not (error and profile.required),
            "error": error,
            "env": startup_env(dict(os.environ)),
            "names": STARTUP_ENV,
        }
        server = Server(listener, owner, wakeup, profile, hello)
        server.run()
    finally:
        if os.getpid() == ZYGOTE_PID:
            if server is not None:
                server.stop(set(server.children))
            with contextlib.suppress(OSError):
                os.unlink(socket_path)


if __name__ == "__main__":
    main()
