"""One fork server per LiteLLM interpreter: the proxies of a run share one import of LiteLLM.

Importing ``litellm.proxy.proxy_server`` costs about six CPU-seconds on a 2-core machine, and a run
starts a dozen proxies: most of the suite's start-up was the same import, done a dozen times at
once. The fork server (``zygote.py``, run by the interpreter under test) does it once and forks
each proxy from there; each child then runs LiteLLM's own command line, unchanged.

``--proxy-launch exec`` keeps the one-interpreter-per-proxy launch. The fork server falls back to
it by itself when it cannot help: no ``os.fork``, or an environment where the preload failed (the
proxy's own start then shows the error in its own log, as before).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from harness.errors import HarnessError

ZYGOTE = Path(__file__).with_name("zygote.py")
LAUNCH_MODES = ("fork", "exec")
PRELOAD_TIMEOUT = 180.0


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
    python: str
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    preloaded: bool = False
    error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _home: tempfile.TemporaryDirectory[str] | None = None
    _ready: bool = False

    def start(self) -> None:
        """Launch the server; it imports LiteLLM in the background while the caller goes on."""
        self._home = tempfile.TemporaryDirectory(prefix="cc-gateway-forkserver-")
        home = Path(self._home.name)
        env = {**self.env, "HOME": str(home)}
        self.process = subprocess.Popen(
            [self.python, str(ZYGOTE), str(home / "forkserver.log")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env=env, cwd=home, start_new_session=True)

    def ready(self, timeout: float = PRELOAD_TIMEOUT) -> bool:
        """Wait for the preload; True when proxies can be forked from a loaded LiteLLM."""
        with self._lock:
            if not self._ready:
                self._ready = True
                hello = self._read(timeout)
                self.preloaded = bool(hello and hello.get("preloaded"))
                self.error = str(hello.get("error", "")) if hello else "the fork server did not answer"
            return self.preloaded and self.alive()

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> ForkedProcess:
        answer = self._ask({"op": "spawn", "argv": argv, "env": env, "cwd": str(cwd), "log": str(log)})
        if answer is None or "pid" not in answer:
            raise HarnessError(f"the fork server for {self.python} stopped answering while starting a proxy; "
                               "rerun with --proxy-launch exec to start each proxy in its own interpreter")
        return ForkedProcess(int(answer["pid"]), self)

    def poll(self, pid: int) -> int | None:
        answer = self._ask({"op": "poll", "pid": pid}) if self.alive() else None
        if answer is not None:
            return answer.get("returncode")
        # Without the server nobody reaps the proxy: judge it by whether it still runs.
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return None
        return -1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Close its input: the server stops whatever proxies it still runs, then exits."""
        if self.process is not None:
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdout is not None
                self.process.stdout.close()
        if self._home is not None:
            self._home.cleanup()
            self._home = None

    def _ask(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if not self.ready():
            return None
        with self._lock:
            stdin = self.process.stdin if self.process else None
            try:
                assert stdin is not None
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
            except (OSError, ValueError, AssertionError):
                return None
            return self._read(30.0)

    def _read(self, timeout: float) -> dict[str, Any] | None:
        stdout: IO[str] | None = self.process.stdout if self.process else None
        if stdout is None:
            return None
        line = _readline(stdout, timeout)
        if not line and self.process is not None:
            self.process.kill()  # dead or hung: a late answer must never be read as the next one's
        return json.loads(line) if line else None


def _readline(stream: IO[str], timeout: float) -> str:
    """One line, or "" if none came in time (the server died, or hangs importing)."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0] if got else ""


_SERVERS: dict[str, ForkServer] = {}
_SERVERS_LOCK = threading.Lock()


def prestart(python: str, env: dict[str, str]) -> None:
    """Start ``python``'s fork server now, so LiteLLM imports while the fakes start and tests collect."""
    if hasattr(os, "fork"):
        with _SERVERS_LOCK:
            if python not in _SERVERS:
                _SERVERS[python] = server = ForkServer(python, env)
                server.start()


def acquire(python: str, env: dict[str, str]) -> ForkServer | None:
    """The running fork server for ``python``, or None when proxies must start in their own interpreter."""
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
