"""Bad input to the harness gets one clear paragraph and leaves no process behind."""

from __future__ import annotations

import os
import signal
import socket
import stat
import sys
import textwrap
import time
import venv
from pathlib import Path

import httpx
import psutil
import pytest

from harness.errors import HarnessError, ProxyStartError
from harness.gateway import forkserver
from harness.gateway.configs import GatewayConfig, Upstreams, default_config
from harness.gateway.process import (
    free_port,
    litellm_version,
    proxy_env,
    spawn,
    start_many,
    wait_ready,
    zygote_env,
)

UP = Upstreams("http://127.0.0.1:9", "http://127.0.0.1:9")


def processes_mentioning(marker: str) -> list[psutil.Process]:
    found = []
    # A forked proxy has the fork server's command line and start-up environment; its working
    # directory (the gateway's folder) still names it.
    for proc in psutil.process_iter(["cmdline", "environ", "cwd"]):
        try:
            info = proc.info
            text = (
                " ".join(info["cmdline"] or [])
                + f" {info.get('environ') or ''} {info.get('cwd') or ''}"
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if marker in text and proc.pid != os.getpid():
            found.append(proc)
    return found


def fake_litellm(tmp_path: Path, proxy_cli: str) -> str:
    """A Python wrapper whose ``litellm`` is a stand-in with the given ``proxy_cli`` body."""
    site = tmp_path / "site"
    pkg = site / "litellm" / "proxy"
    pkg.mkdir(parents=True)
    (site / "litellm" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "proxy_cli.py").write_text(textwrap.dedent(proxy_cli))
    dist = site / "litellm-0.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: litellm\nVersion: 0.0.0+fake\n")
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper)


def test_missing_interpreter_is_explained():
    with pytest.raises(HarnessError, match=r"does not exist\. Pass --litellm-python"):
        litellm_version("/nonexistent/bin/python")


def test_interpreter_without_litellm_is_explained(tmp_path):
    venv.create(tmp_path / "env", with_pip=False)
    with pytest.raises(HarnessError, match="litellm is not installed in the Python environment"):
        spawn(default_config(UP), str(tmp_path / "env" / "bin" / "python"), tmp_path / "run")
    assert not (tmp_path / "run").exists(), "nothing should be written before the check passes"


def test_taken_port_is_refused_before_spawning(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(
            ProxyStartError, match=rf"port {port} on 127\.0\.0\.1 is already in use"
        ):
            spawn(default_config(UP), sys.executable, tmp_path, port)
    assert processes_mentioning(str(tmp_path)) == []


def test_proxy_that_dies_at_startup_shows_its_log_tail(tmp_path):
    python = fake_litellm(
        tmp_path,
        """
        import sys
        print("booting the fake gateway")
        print("FATAL: simulated crash during startup", flush=True)
        sys.exit(3)
    """,
    )
    with pytest.raises(ProxyStartError) as info:
        wait_ready(spawn(default_config(UP), python, tmp_path / "run"), timeout=30)
    message = str(info.value)
    assert "exited during startup with code 3" in message
    assert "FATAL: simulated crash during startup" in message
    assert message.count("\n\n") == 0, "the explanation is one paragraph plus the log tail"


def test_hanging_proxy_times_out_and_its_whole_process_group_is_killed(tmp_path):
    python = fake_litellm(
        tmp_path,
        """
        import subprocess, time
        subprocess.Popen(["sleep", "300"])  # a child, to prove the group is killed
        print("started, never ready", flush=True)
        time.sleep(300)
    """,
    )
    proxy = spawn(default_config(UP), python, tmp_path / "run")
    with pytest.raises(ProxyStartError, match=r"did not become ready within 2 s"):
        wait_ready(proxy, timeout=2)
    assert not proxy.alive()
    assert processes_mentioning(str(tmp_path)) == []


def test_one_broken_config_does_not_block_the_others(tmp_path):
    python = fake_litellm(tmp_path, "import sys; sys.exit(4)")
    good, bad = default_config(UP), default_config(UP)
    bad.name = "bad"
    running, failed = start_many([good, bad], python, tmp_path)
    assert running == {}
    assert set(failed) == {"default", "bad"}
    assert all("code 4" in str(e) for e in failed.values())


def test_config_the_real_proxy_rejects_is_explained(tmp_path):
    broken = GatewayConfig("broken", {"model_list": [{"model_name": "no-params"}]})
    with pytest.raises(ProxyStartError) as info:
        wait_ready(spawn(broken, sys.executable, tmp_path), timeout=90)
    message = str(info.value)
    assert "gateway config 'broken' exited during startup" in message
    assert "rejected its config" in message
    assert "litellm_params" in message, "the log tail names the missing key"
    assert processes_mentioning(str(tmp_path)) == []


def test_session_with_a_broken_config_fails_clearly_and_leaves_no_process(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import pytest
        from harness.gateway.configs import GatewayConfig, gateway_config

        @gateway_config("broken-in-session")
        def broken(upstreams):
            return GatewayConfig("broken-in-session", {"model_list": 42})

        @pytest.mark.gateway("broken-in-session")
        def test_uses_broken(gateway):
            pass

        @pytest.mark.gateway("broken-in-session")
        def test_uses_broken_again(gateway):
            pass

        def test_uses_default(gateway, anthropic_provider):
            assert gateway.request("GET", "/health/liveliness").status == 200
        """
    )
    result = pytester.runpytest_subprocess("-p", "harness.plugin", timeout=240)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*gateway config 'broken-in-session' exited during startup with code 3*"]
    )
    assert "Traceback" not in result.stdout.str().split("short test summary")[0].split("ERRORS")[-1]
    assert processes_mentioning(str(pytester.path)) == []


# The fork server (--proxy-launch fork, the default): proxies forked from one preloaded LiteLLM.


def test_a_forked_proxy_runs_litellms_command_line_in_its_own_folder(tmp_path):
    proxy = wait_ready(
        spawn(default_config(UP), sys.executable, tmp_path / "run", launch="fork"), timeout=120
    )
    try:
        assert proxy.launch == "fork"
        assert httpx.get(proxy.url + "/health/liveliness", timeout=10).status_code == 200
        process = psutil.Process(proxy.process.pid)
        assert process.cwd() == str(tmp_path / "run")
        assert process.ppid() != os.getpid(), (
            "forked by the fork server, not launched by the harness"
        )
        assert (
            "Uvicorn running" in proxy.log_text()
            or "Application startup complete" in proxy.log_text()
        )
    finally:
        proxy.stop()
    assert not proxy.alive()
    assert processes_mentioning(str(tmp_path)) == []


def _fork_one(server: forkserver.ForkServer, folder: Path) -> forkserver.ForkedProcess:
    """A forked child that stays up until something stops it.

    These checks judge the fork server's lifecycle, not LiteLLM: the child sleeps. (It was
    ``["proxy_cli", ...]`` without ``-m``, which the zygote cannot run: the child died at once,
    and a check passed only when it asked before the exit was noticed.)
    """
    folder.mkdir()
    gateway = default_config(UP)
    return server.spawn(
        ["-c", "import time; time.sleep(300)"],
        proxy_env(gateway, folder),
        folder,
        folder / "proxy.log",
    )


def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_fork_server_that_goes_away_takes_its_proxies_with_it(tmp_path):
    server = forkserver.ForkServer.start(sys.executable, zygote_env())
    assert server.ready(), server.error
    child = _fork_one(server, tmp_path / "run")
    assert psutil.pid_exists(child.pid)
    server.stop()  # as when the harness dies: the server's input ends
    assert _gone(child.pid)
    assert processes_mentioning(str(tmp_path)) == []
    assert not os.path.exists(server.socket_path)


def test_a_run_that_needed_no_proxy_does_not_wait_for_litellms_import():
    server = forkserver.ForkServer.start(sys.executable, zygote_env())
    assert server.process is not None
    # at once: the server is still importing LiteLLM (six CPU-seconds), so it has forked nothing
    server.stop()
    assert server.process.returncode == -signal.SIGKILL, (
        "stopped, not waited for until its import was over"
    )
    assert not os.path.exists(server.socket_path)


def test_a_worker_sharing_the_server_takes_only_its_own_proxies_when_it_leaves(tmp_path):
    owner = forkserver.ForkServer.start(sys.executable, zygote_env())
    try:
        worker = forkserver.ForkServer(
            sys.executable, owner.socket_path
        )  # as an xdist worker connects
        assert worker.ready()
        assert owner.ready()
        kept, dropped = _fork_one(owner, tmp_path / "kept"), _fork_one(worker, tmp_path / "dropped")
        assert worker.poll(dropped.pid) is None
        worker.stop()  # a worker that ends (or dies) disconnects
        deadline = time.monotonic() + 15
        while not _gone(dropped.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(dropped.pid)
        log = (tmp_path / "kept" / "proxy.log").read_text(errors="replace")
        assert kept.poll() is None, f"the owner's child did not run on:\n{log[-2000:]}"
    finally:
        owner.stop()
    assert processes_mentioning(str(tmp_path)) == []


def test_an_interpreter_whose_litellm_cannot_preload_starts_proxies_the_old_way(tmp_path):
    python = fake_litellm(
        tmp_path, "import time; print('fake proxy up', flush=True); time.sleep(300)"
    )
    proxy = spawn(default_config(UP), python, tmp_path / "run", launch="fork")
    try:
        assert proxy.launch == "exec"
    finally:
        proxy.stop()
    assert processes_mentioning(str(tmp_path)) == [], "the useless fork server was stopped too"


def test_exec_launch_still_starts_each_proxy_in_its_own_interpreter(tmp_path):
    proxy = wait_ready(
        spawn(default_config(UP), sys.executable, tmp_path / "run", launch="exec"), timeout=120
    )
    try:
        assert proxy.launch == "exec"
        assert psutil.Process(proxy.process.pid).ppid() == os.getpid()
        assert "litellm.proxy.proxy_cli" in " ".join(psutil.Process(proxy.process.pid).cmdline())
    finally:
        proxy.stop()


def test_a_port_another_process_took_first_is_never_mistaken_for_the_proxys_own(
    tmp_path, monkeypatch
):
    """The harness chooses a free port and the proxy binds it seconds later. When another worker's
    proxy takes the port in between, its liveness answer must not make this proxy "ready" (its
    checks would reach the wrong gateway): readiness needs the proxy's own listening socket, and the
    lost port is retried once on another."""
    import http.server
    import threading

    from harness.gateway import process

    class Alive(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    squatter = http.server.HTTPServer(("127.0.0.1", 0), Alive)
    taken = squatter.server_address[1]
    threading.Thread(target=squatter.serve_forever, daemon=True).start()
    ports = iter([taken])
    monkeypatch.setattr(process, "free_port", lambda: next(ports, None) or free_port())
    python = fake_litellm(
        tmp_path,
        """
        import http.server, sys
        port = int(sys.argv[sys.argv.index("--port") + 1])
        class Alive(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
        try:
            server = http.server.HTTPServer(("127.0.0.1", port), Alive)
        except OSError as exc:
            print(f"ERROR: {exc}: address already in use", flush=True)  # as uvicorn logs it, then exits 3
            sys.exit(3)
        server.serve_forever()
    """,  # noqa: E501
    )
    gateway = default_config(UP)
    gateway.name = "other"
    try:
        running, failed = start_many([gateway], python, tmp_path, timeout=30, launch="exec")
        assert failed == {}
        proxy = running["other"]
        assert proxy.port != taken, "the squatter's answer was taken for the proxy's"
        assert proxy.alive()
        proxy.stop()
    finally:
        squatter.shutdown()
