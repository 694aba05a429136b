"""xdist workers forked from the warm-worker server (harness.plugin.warmworkers): the same worker as
a cold one.

A forked worker must run with its launcher's folder, arguments and environment, report its own exit
code, die with its launcher, and start cold wherever the server cannot stand in for a fresh
interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.plugin.warmworkers import CLIENT, WarmWorkers

ROOT = Path(__file__).resolve().parent.parent
# What a worker reports about itself: was it forked warm, and with which folder, arguments and
# environment.
PROBE = (
    "import json, os, sys; print(json.dumps({'warm': 'anthropic' in sys.modules, "
    "'cwd': os.getcwd(), 'argv': sys.argv, 'path0': sys.path[0], "
    "'marker': os.environ.get('CC_PROBE'), 'parent': os.getppid()}))"
)


@pytest.fixture
def warm_server() -> Iterator[WarmWorkers]:
    server = WarmWorkers.start()
    yield server
    server.stop()


def launch(
    server_socket: Path | str, code: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", str(CLIENT), str(server_socket), "-u", "-c", code],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_forked_worker_runs_with_its_launchers_folder_arguments_and_environment(
    warm_server, tmp_path
):
    done = launch(warm_server.socket_path, PROBE + "; sys.exit(3)", tmp_path, CC_PROBE="seen")
    assert done.returncode == 3, done.stderr
    seen = json.loads(done.stdout)
    assert seen["warm"], "the worker was forked from the server, its libraries already imported"
    assert seen["parent"] == warm_server.process.pid
    assert (seen["cwd"], seen["argv"], seen["path0"], seen["marker"]) == (
        str(tmp_path),
        ["-c"],
        "",
        "seen",
    )


def test_a_launcher_that_cannot_reach_the_server_starts_its_worker_cold(tmp_path):
    done = launch(tmp_path / "no-server", PROBE, tmp_path, CC_PROBE="seen")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert not seen["warm"]
    assert (seen["argv"], seen["marker"]) == (["-c"], "seen")


def test_a_launcher_with_other_interpreter_settings_starts_its_worker_cold(warm_server, tmp_path):
    done = launch(warm_server.socket_path, PROBE, tmp_path, PYTHONHASHSEED="123")
    assert done.returncode == 0, done.stderr
    assert not json.loads(done.stdout)["warm"], (
        "a hash seed the server does not have needs an interpreter of its own"
    )


def test_a_worker_dies_with_its_launcher(warm_server, tmp_path):
    code = "import os, sys, time; print(os.getpid(), flush=True); time.sleep(120)"
    launcher = subprocess.Popen(
        [sys.executable, "-S", str(CLIENT), str(warm_server.socket_path), "-u", "-c", code],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert launcher.stdout is not None
    worker = int(launcher.stdout.readline())
    assert psutil.Process(worker).ppid() == warm_server.process.pid
    launcher.send_signal(signal.SIGKILL)  # as execnet kills a worker that will not stop
    launcher.wait()
    deadline = time.monotonic() + 10
    while _alive(worker):
        assert time.monotonic() < deadline, "the worker outlived its launcher"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    # A worker reaped between two questions is gone, not an error (psutil.NoSuchProcess).
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_launcher_gone_mid_handshake_leaves_no_descriptor_in_the_server(warm_server):
    """Else a later worker holds that launcher's pipe, and its reader never sees the end (xdist
    waits it out)."""
    import socket

    read, write = os.pipe()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(warm_server.socket_path))
    conn.makefile("rb").readline()  # the hello: the server is past its imports
    socket.send_fds(conn, [b"F"], [write, write, write])
    conn.close()  # gone before its request
    os.close(write)
    os.set_blocking(read, False)
    deadline = time.monotonic() + 10
    while True:
        try:
            assert os.read(read, 1) == b"", "end of file: nobody holds the write end"
            break
        except BlockingIOError:
            assert time.monotonic() < deadline, "the server kept the launcher's descriptors"
            time.sleep(0.05)
    os.close(read)


def test_an_xdist_run_forks_its_workers_and_exec_keeps_them_cold(tmp_path):
    (tmp_path / "test_probe.py").write_text(
        "import sys\nWARM = 'anthropic' in sys.modules\n\ndef test_probe(record_property):\n"
        "    record_property('warm', WARM)\n    print('WARM', WARM)\n"
    )
    seen = {}
    for mode in ("fork", "exec"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-n",
                "2",
                "-p",
                "no:cacheprovider",
                "-rP",
                "--no-report",
                "--worker-launch",
                mode,
                str(tmp_path / "test_probe.py"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        seen[mode] = "WARM True" in done.stdout
    assert seen == {"fork": True, "exec": False}
