"""xdist workers forked from one process that imported their libraries once (``--worker-launch
fork``).

Each worker of a run imports the same third-party libraries (the ``anthropic`` SDK's types,
pydantic, httpx, vcrpy, cryptography, pytest): about 1.7 CPU-seconds a worker, paid eight times or
more on a run of the suites. With ``-n`` and xdist's default ``popen`` nodes, the controller starts
the run's fork server (``harness/gateway/forkserver/zygote.py``, profile ``workers``, the program
that also forks the proxies), which imports them once, and gives execnet ``warmworker_client.py`` as
each worker's interpreter: the client hands its streams, arguments, folder and environment to the
server, which forks the worker. pytest still imports the harness, the plugins and the checks in each
worker (so their asserts are rewritten, as without the server).

Where the server cannot help the workers start cold, as before: ``--worker-launch exec``, ``--tx``
nodes of one's own, no ``os.fork``, a server that died, or a worker whose interpreter settings
(``PYTHONPATH``, ``PYTHONHASHSEED``, ...) differ from the server's."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.gateway.forkserver.servers import ZYGOTE

CLIENT = Path(__file__).with_name("warmworker_client.py")
LAUNCH_MODES = ("fork", "exec")
BIND_TIMEOUT = 10.0


@dataclass
class WarmWorkers:
    process: subprocess.Popen[bytes]
    home: Path

    @property
    def socket_path(self) -> Path:
        return self.home / "socket"

    @property
    def interpreter(self) -> str:
        """What execnet runs instead of the plain interpreter (it appends ``-u -c BOOTSTRAP``)."""
        return " ".join(
            shlex.quote(p) for p in (sys.executable, "-S", str(CLIENT), str(self.socket_path))
        )

    @classmethod
    def start(cls) -> WarmWorkers:
        home = Path(tempfile.mkdtemp(prefix="cc-gw-workers-"))
        with (home / "server.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-u", str(ZYGOTE), "workers", str(home / "socket")],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=home,
            )
        server = cls(process, home)
        # It binds its socket before its imports, within a fraction of a second: workers start right
        # after this.
        deadline = time.monotonic() + BIND_TIMEOUT
        while (
            not server.socket_path.exists()
            and process.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        return server

    def stop(self) -> None:
        """The server exits once its input ends and its workers have; a stuck one is killed."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


SERVER_KEY = pytest.StashKey[WarmWorkers]()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """On the controller of an ``-n`` run: start the server and point xdist's ``popen`` nodes at its
    client."""
    tx = list(getattr(config.option, "tx", None) or [])
    if (
        hasattr(config, "workerinput")
        or not tx
        or any(spec != "popen" for spec in tx)
        or config.getoption("worker_launch") != "fork"
        or not hasattr(os, "fork")
        or config.option.collectonly
    ):
        return
    server = WarmWorkers.start()
    if (
        not server.socket_path.exists()
    ):  # it died starting: its log is in the folder; the workers start cold
        server.stop()
        return
    config.stash[SERVER_KEY] = server
    config.option.tx = [f"popen//python={server.interpreter}"] * len(tx)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(SERVER_KEY, None)
    if server is not None:
        server.stop()
