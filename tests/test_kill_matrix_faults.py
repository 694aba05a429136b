"""The kill matrix's one session: a fault's copy of a module is its own node, named by the fault,
narrowed to the requirements the fault promises to break; a sweep without the reference gateway is
refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.gateway.reference.faults import KILLS
from harness.plugin.killmatrix import clean_nodeid, fault_of

ROOT = Path(__file__).resolve().parents[1]


def _collect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites/test_auth.py",
            "--co",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_copys_node_id_names_its_fault():
    assert fault_of("suites/test_auth.py@no-auth::test_x[a-b]") == "no-auth"
    assert fault_of("suites/test_auth.py::test_x[a@b]") == ""
    assert (
        clean_nodeid("suites/test_auth.py@no-auth::test_x[a-b]")
        == "suites/test_auth.py::test_x[a-b]"
    )


def test_each_fault_copies_only_its_promised_requirements_checks():
    done = _collect("--gateway-impl", "reference", "--kill-matrix", "no-auth", "-m", "not e2e")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ids = [line for line in done.stdout.splitlines() if line.startswith("suites/")]
    copies = [i for i in ids if fault_of(i) == "no-auth"]
    assert copies, "the fault's copy was collected"
    assert {clean_nodeid(i) for i in copies} < set(ids), (
        "every copy is a copy of a check the run also has clean"
    )
    assert "AUTH-003" in KILLS["no-auth"]
    assert any("test_bad_credentials_get_401" in i for i in copies)
    assert (
        not any("never_echo_the_master_key" in i and "provider-500" in i for i in copies)
        or "AUTH-007" in KILLS["no-auth"]
    )


def test_a_sweep_needs_the_reference_gateway_and_known_faults():
    on_litellm = _collect("--kill-matrix", "no-auth")
    assert on_litellm.returncode == 4
    assert "--kill-matrix needs --gateway-impl reference" in on_litellm.stderr
    unknown = _collect("--gateway-impl", "reference", "--kill-matrix", "no-such-fault")
    assert unknown.returncode == 4
    assert "unknown reference gateway fault(s) ['no-such-fault']" in unknown.stderr
