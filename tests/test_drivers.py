"""Gateway drivers (issue 41): each known driver's contract, and a new gateway added as one module
(``tests/toy_driver.py``) that runs a slice of the catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gateway import drivers

ROOT = Path(__file__).resolve().parents[1]


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
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "suites/test_pipe.py",
        "suites/test_live.py",
        "-k",
        "pipe or (live and anthropic)",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--gateway-driver",
        "tests.toy_driver",
        "--gateway-impl",
        "toy",
        "--report-dir",
        str(tmp_path),
        "-q",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = json.loads((tmp_path / "compat.json").read_text())
    assert run["info"]["gateway"] == "toy"
    assert run["info"]["label"] == "Toy 0.1.0"
    outcomes = [r["outcome"] for r in run["results"]]
    assert outcomes.count("pass") >= 20, outcomes
    assert "fail" not in outcomes
