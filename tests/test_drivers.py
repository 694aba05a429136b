"""Gateway drivers (issue 41): each known driver's contract, and a new gateway added as one module
(``tests/toy_driver.py``) that runs a slice of the catalogue."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gateway import drivers

ROOT = Path(__file__).resolve().parents[1]


def _run_suite(report_dir: Path, *args: str) -> dict:
    """Run the suite in a subprocess, as a user would; its run JSON."""
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q"]
    cmd += ["-p", "no:randomly", "--report-dir", str(report_dir)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run: dict = json.loads((report_dir / "compat.json").read_text())
    return run


def test_every_driver_in_the_package_is_registered_under_its_own_name():
    assert {"litellm", "reference", "black-box"} <= set(drivers.names())
    for name in drivers.names():
        d = drivers.driver(name)
        assert d.name == name
        assert d.capabilities, f"{name} declares no capability"


def test_an_unknown_driver_is_named_with_the_known_ones():
    with pytest.raises(HarnessError, match=r"known: .*litellm"):
        drivers.driver("nginx")


def test_faults_are_refused_for_a_driver_that_takes_none():
    with pytest.raises(ValueError, match="takes no faults"):
        drivers.parse_impl("litellm:drop-beta", None, None)
    assert drivers.parse_impl("reference:drop-beta", None, None).faults == {"drop-beta"}


def test_a_driver_in_one_module_runs_a_slice_of_the_catalogue(tmp_path):
    """The toy driver (the reference gateway renamed) is loaded with --gateway-driver, runs the PIPE
    checks and the live answers on the Anthropic routes, and the report names it."""
    run = _run_suite(
        tmp_path,
        "suites/test_pipe.py",
        "suites/test_live.py",
        "-k",
        "pipe or (live and anthropic)",
        "--gateway-driver",
        "tests.toy_driver",
        "--gateway-impl",
        "toy",
    )
    assert run["info"]["gateway"] == "toy"
    assert run["info"]["label"] == "Toy 0.1.0"
    outcomes = [r["outcome"] for r in run["results"]]
    assert outcomes.count("pass") >= 20, outcomes
    assert "fail" not in outcomes


def test_portkey_renders_each_anthropic_deployment_as_a_routed_target():
    """One target per distinct upstream, the model routed on the request's model name, Claude
    Code's headers forwarded (else Portkey sends its own anthropic-beta)."""
    from harness.gateway.configs import GatewayConfig
    from harness.gateway.drivers.portkey import FORWARDED, render

    entry = {"api_base": "http://127.0.0.1:9", "api_key": "os.environ/K"}
    config = GatewayConfig(
        "x",
        {
            "model_list": [
                {"model_name": "a", "litellm_params": {**entry, "model": "anthropic/claude-x"}},
                {"model_name": "b", "litellm_params": {**entry, "model": "anthropic/claude-x"}},
                {"model_name": "c", "litellm_params": {**entry, "model": "openai/gpt-x"}},
            ]
        },
        env={"K": "sk-ant-k"},
    )
    rendered = render(config)
    (target,) = rendered["targets"]
    assert target["custom_host"] == "http://127.0.0.1:9/v1"
    assert target["api_key"] == "sk-ant-k"
    assert target["override_params"] == {"model": "claude-x"}
    assert "anthropic-beta" in target["forward_headers"] == list(FORWARDED)
    routed = {
        c["query"]["params.model"]["$eq"]: c["then"] for c in rendered["strategy"]["conditions"]
    }
    assert routed == {"a": "t0", "b": "t0"}


def test_portkey_serves_a_messages_answer_through_its_driver(tmp_path):
    """Portkey's gateway (npm, pinned by integrity) starts from the driver and serves the PIPE
    check's non-streamed answer with its content."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not on PATH")
    run = _run_suite(
        tmp_path, "suites/test_pipe.py", "-k", "json_reaches", "--gateway-impl", "portkey"
    )
    assert run["info"]["gateway"] == "portkey"
    assert run["info"]["label"] == "Portkey 1.15.2"
    assert [r["outcome"] for r in run["results"] if r["requirement"] == "PIPE-001"] == ["pass"]


def test_the_gate_lists_another_gateway_by_its_driver_and_pinned_version():
    """``dev.py gate --gateway 1.108.7 portkey@1.15.2``: a gateway entry runs its driver."""
    from harness.tools import envs

    env = envs.gateway_environment("portkey@1.15.2")
    assert env is not None
    assert (env.gateway, env.version) == ("portkey", "portkey@1.15.2")
    assert envs.gateway_environment("1.108.7") is None
    with pytest.raises(HarnessError, match=r"runs portkey@1\.15\.2 only"):
        envs.gateway_environment("portkey@1.0.0")
    with pytest.raises(HarnessError, match="no gateway driver 'nginx'"):
        envs.gateway_environment("nginx@1.0")
