"""Bad input to the harness gets one clear paragraph and leaves no process behind."""

from __future__ import annotations

import os
import socket
import stat
import sys
import textwrap
import venv
from pathlib import Path

import psutil
import pytest

from harness.errors import HarnessError, ProxyStartError
from harness.gateways import GatewayConfig, Upstreams, default_config
from harness.proxy import litellm_version, spawn, start_many, wait_ready

UP = Upstreams("http://127.0.0.1:9", "http://127.0.0.1:9")


def processes_mentioning(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + str(proc.info.get("environ") or "")
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
        with pytest.raises(ProxyStartError, match=rf"port {port} on 127\.0\.0\.1 is already in use"):
            spawn(default_config(UP), sys.executable, tmp_path, port)
    assert processes_mentioning(str(tmp_path)) == []


def test_proxy_that_dies_at_startup_shows_its_log_tail(tmp_path):
    python = fake_litellm(tmp_path, """
        import sys
        print("booting the fake gateway")
        print("FATAL: simulated crash during startup", flush=True)
        sys.exit(3)
    """)
    with pytest.raises(ProxyStartError) as info:
        wait_ready(spawn(default_config(UP), python, tmp_path / "run"), timeout=30)
    message = str(info.value)
    assert "exited during startup with code 3" in message
    assert "FATAL: simulated crash during startup" in message
    assert message.count("\n\n") == 0, "the explanation is one paragraph plus the log tail"


def test_hanging_proxy_times_out_and_its_whole_process_group_is_killed(tmp_path):
    python = fake_litellm(tmp_path, """
        import subprocess, time
        subprocess.Popen(["sleep", "300"])  # a child, to prove the group is killed
        print("started, never ready", flush=True)
        time.sleep(300)
    """)
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
        from harness.gateways import GatewayConfig, gateway_config

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
    result.stdout.fnmatch_lines(["*gateway config 'broken-in-session' exited during startup with code 3*"])
    assert "Traceback" not in result.stdout.str().split("short test summary")[0].split("ERRORS")[-1]
    assert processes_mentioning(str(pytester.path)) == []
