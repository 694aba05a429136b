"""The code of :mod:`harness.gateway.forkserver`; what it is for: the package's docstring."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from harness.errors import HarnessError
from harness.gateway.forkserver.zygote import PRELOADED

ZYGOTE = Path(__file__).with_name("zygote.py")
LAUNCH_MODES = ("fork", "exec")
SHARED = (
    "CC_GATEWAY_FORKSERVERS"  # {python: socket path} of the fork servers a parent process shares
)
PRELOAD_TIMEOUT = 180.0
ANSWER_TIMEOUT = 30.0


@dataclass
class ForkedProcess:
    """A proxy the fork server forked: what the launcher needs of a ``Popen``."""

    pid: int
    server: ForkServer
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.poll(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"proxy {self.pid}", timeout or 0.0)
            time.sleep(0.05)
        return code


@dataclass(eq=False)
class ForkServer:
    """This process's connection to a fork server, and the server itself when this process started
    it."""

    python: str
    socket_path: str
    process: subprocess.Popen[bytes] | None = None  # set only in the process that owns the server
    preloaded: bool = False
    error: str = ""
    _stream: IO[str] | None = None
    _sock: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tried: bool = False
    _home: str = ""
    _exits: dict[int, int] = field(default_factory=dict)  # told by the server as each proxy ends

    @classmethod
    def start(cls, python: str, env: dict[str, str]) -> ForkServer:
        """Launch a server; it imports LiteLLM in the background while the caller goes on."""
        home = tempfile.mkdtemp(prefix="cc-gw-fork-")
        server = cls(python, os.path.join(home, "socket"), _home=home)
        server.process = subprocess.Popen(
            [
                python,
                "-u",
                str(ZYGOTE),
                "litellm",
                server.socket_path,
                os.path.join(home, "forkserver.log"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**env, "HOME": home},
            cwd=home,
            start_new_session=True,
        )
        return server

    def ready(self, timeout: float = PRELOAD_TIMEOUT) -> bool:
        """Connect and wait for the preload; True when proxies can be forked from a loaded
        LiteLLM."""
        with self._lock:
            if not self._tried:
                self._tried = True
                hello = self._connect(timeout)
                self.preloaded = bool(hello and hello.get("preloaded"))
                self.error = (
                    str(hello.get("error", "")) if hello else "the fork server did not answer"
                )
            return self.preloaded and self._stream is not None

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> ForkedProcess:
        """Fork ``python ARGV`` (``-m litellm.proxy.proxy_cli ...``) in its own session."""
        # The proxy runs at its asker's priority, as an interpreter the asker started would.
        nice = os.getpriority(os.PRIO_PROCESS, 0)
        answer = self._ask(
            {
                "op": "spawn",
                "argv": argv,
                "env": env,
                "cwd": str(cwd),
                "log": str(log),
                "nice": nice,
                "session": True,
            }
        )
        if answer is None or "pid" not in answer:
            raise HarnessError(
                f"the fork server for {self.python} stopped answering while starting a proxy; "
                "rerun with --proxy-launch exec to start each proxy in its own interpreter"
            )
        return ForkedProcess(int(answer["pid"]), self)

    def poll(self, pid: int) -> int | None:
        if pid in self._exits:
            return self._exits[pid]
        answer = self._ask({"op": "poll", "pid": pid})
        if answer is not None:
            return answer.get("returncode")
        # Without the server nobody reaps the proxy: judge it by whether it still runs.
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return None
        return -1

    def stop(self) -> None:
        """Disconnect (the server stops this process's proxies); the owner also stops the server."""
        with self._lock:
            self._tried = True
            self._close()
        if self.process is not None:
            if not os.path.exists(os.path.join(self._home, PRELOADED)):
                # Still importing LiteLLM, so it has forked nothing: a run that needed no proxy (a
                # --collect-only, a narrow -k) need not wait the import out before it exits.
                self.process.kill()
            with contextlib.suppress(OSError, ValueError, AttributeError):
                self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._home:
            with contextlib.suppress(OSError):
                for name in os.listdir(self._home):
                    os.unlink(os.path.join(self._home, name))
                os.rmdir(self._home)

    def _connect(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + 10
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.socket_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                gone = self.process is not None and self.process.poll() is not None
                if gone or time.monotonic() > deadline:
                    return None
                time.sleep(0.05)
        sock.settimeout(timeout)  # the hello comes once LiteLLM is imported
        self._sock, self._stream = sock, sock.makefile("rw")
        hello = self._readline()
        if hello is not None:
            sock.settimeout(ANSWER_TIMEOUT)
        return hello

    def _close(self) -> None:
        for part in (self._stream, self._sock):
            if part is not None:
                with contextlib.suppress(OSError):
                    part.close()
        self._stream = self._sock = None

    def _ask(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if not self.ready():
            return None
        with self._lock:
            if self._stream is None:
                return None
            try:
                self._stream.write(json.dumps(request) + "\n")
                self._stream.flush()
            except (OSError, ValueError):
                return None
            return self._readline()

    def _readline(self) -> dict[str, Any] | None:
        """The next answer; the server's word that a proxy ended, sent unasked, is kept on the
        way."""
        assert self._stream is not None
        while True:
            try:
                line = self._stream.readline()
            except (OSError, ValueError):
                line = ""
            if not line:  # dead or hung: a late answer must never be read as the next request's
                self._close()
                return None
            answer: dict[str, Any] = json.loads(line)
            if "exit" not in answer:
                return answer
            self._exits[int(answer["pid"])] = int(answer["exit"])


_SERVERS: dict[str, ForkServer] = {}
_SERVERS_LOCK = threading.Lock()


def shared() -> dict[str, str]:
    try:
        found = json.loads(os.environ.get(SHARED, "{}"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def prestart(python: str, env: dict[str, str], share: bool = False) -> None:
    """Start (or find) ``python``'s fork server now, so LiteLLM imports while the run gets going.

    ``share``: the processes this one starts (xdist workers) use it too, through
    ``CC_GATEWAY_FORKSERVERS``.
    """
    if not hasattr(os, "fork"):
        return
    with _SERVERS_LOCK:
        if python in _SERVERS:
            return
        path = shared().get(python)
        _SERVERS[python] = server = (
            ForkServer(python, path) if path else ForkServer.start(python, env)
        )
    if share and server.process is not None:
        os.environ[SHARED] = json.dumps({**shared(), python: server.socket_path})


def acquire(python: str, env: dict[str, str]) -> ForkServer | None:
    """The ready fork server for ``python``, or None when proxies must start in their own
    interpreter."""
    prestart(python, env)
    server = _SERVERS.get(python)
    if server is None:
        return None
    if not server.ready():
        server.stop()  # kept in the table, stopped: this interpreter's proxies start on their own
        return None
    return server


@atexit.register
def stop_all() -> None:
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        server.stop()
