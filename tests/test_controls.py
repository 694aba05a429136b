"""Positive and negative controls: the suite passes a correct gateway and flags each broken one.

Each control is a real `pytest suites/` run in a subprocess against the reference
gateway (harness/gateway/reference/__init__.py), read back through the run's own JSON report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.gateway.reference.faults import FAULTS

ROOT = Path(__file__).resolve().parents[1]
# Which requirements are expected to notice each fault (at least one must fail).
EXPECTED = {
    "drop-beta": {"PIPE-006", "CTX1M-001", "PASS-002", "COUNT-003", "REPLAY-002"},
    "reorder-events": {"PASS-003", "STREAM-010"},
    # Besides the key checks, every check whose provider sees the key fails as a security change (with -x: the first).
    "leak-key": {"AUTH-001", "AUTH-005", "PASS-005"},
    "openai-errors": {"AUTH-004", "ERR-002", "ERR-004", "KEYS-002", "PASS-007"},
    "no-auth": {"AUTH-003", "AUTH-004", "AUTH-007", "KEYS-002", "KEYS-004", "PASS-004"},
    "bad-key-400": {"AUTH-003", "AUTH-004", "PASS-004"},
    "buffer-stream": {"STREAM-008"},
    "drop-fields": {"FIELDS-001", "FEAT-004", "FEAT-006", "FEAT-007", "PROTO-006"},
    "server-error-on-bad-request": {"ERR-005"},
    "invent-message-stop": {"STREAM-007", "RESIL-010"},
    "quickstart-open": {"AUTH-008"},
    "server-error-on-bad-json": {"ERR-005"},
    "alternate-errors": {"AUTH-004", "ERR-004"},
    "unknown-model-400": {"ROUTE-002"},
    "inject-refused-field": {"ROUTE-008", "ROUTE-001"},
    # The faults under which a gateway should hold (issue 23): each proves the RESIL checks it names can fail.
    "complete-broken-stream": {"RESIL-001"},
    "truncated-200": {"RESIL-002"},
    "overload-as-500": {"RESIL-003", "RESIL-009"},
    "bench-all-after-error": {"RESIL-004", "RESIL-005"},
    "no-timeout": {"RESIL-006"},
    "drop-backoff-headers": {"RESIL-009", "ERR-003"},
    "keep-upstream-after-leave": {"RESIL-007", "RESIL-008"},
    "retry-for-nobody": {"RESIL-013"},
    "stream-deadline": {"RESIL-012", "STREAM-012"},
    "fallback-restart": {"RESIL-011"},
}


# A fault every Messages request meets fails nearly every check; with -x the first to fail is a matter of
# scheduling, so its control runs only the checks that judge what the provider received.
NARROWED = {"inject-refused-field": ("-k", "test_provider_rules or test_model_name_reaches_its_provider_model"),
            # The faults of a gateway under faults: only the checks that script faults meet them.
            # A cooldown of the whole gateway fails whatever check comes next: only those of one error's aftermath.
            "bench-all-after-error": ("-k", "TestProviderErrorsTogether"),
            **{fault: ("-k", "test_resilience") for fault in (
                "complete-broken-stream", "truncated-200", "overload-as-500", "no-timeout",
                "drop-backoff-headers", "keep-upstream-after-leave", "retry-for-nobody", "stream-deadline",
                "fallback-restart")}}


def run_suite(tmp_path: Path, impl: str, *extra: str) -> dict:
    # The CLI end-to-end checks are left out: the controls are about the protocol checks, and fast.
    cmd = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--tb=no", "-m", "not e2e",
           "--gateway-impl", impl, "--no-rerun", "--report-dir", str(tmp_path), *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = tmp_path / "compat.json"
    assert report.exists(), f"no report written; pytest said:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    return json.loads(report.read_text()) | {"exit": done.returncode, "stdout": done.stdout}


def failing(run: dict) -> set[str]:
    return {r["requirement"] for r in run["results"] if r["outcome"] in ("fail", "error")}


@pytest.fixture(scope="module")
def control_runs(tmp_path_factory) -> dict[str, dict]:
    """Every control run at once: they mostly wait on paced streams, so four share two cores well."""
    impls = {"reference": ()} | {f"reference:{fault}": ("-x", *NARROWED.get(fault, ())) for fault in FAULTS}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {impl: pool.submit(run_suite, tmp_path_factory.mktemp("control"), impl, *extra)
                   for impl, extra in impls.items()}
        return {impl: future.result() for impl, future in futures.items()}


def test_every_fault_has_an_expectation():
    assert set(EXPECTED) == set(FAULTS)


def test_reference_gateway_passes_every_applicable_requirement(control_runs):
    run = control_runs["reference"]
    assert failing(run) == set(), run["stdout"][-3000:]
    assert run["exit"] == 0
    passed = [r for r in run["results"] if r["outcome"] == "pass"]
    skipped = {r["reason"] for r in run["results"] if r["outcome"] == "skipped"}
    assert len(passed) >= 150
    expected = ("not applicable to reference", "DB-backed", "only with --litellm-config", "not applicable on ")
    assert all(any(e in s for e in expected) for s in skipped), skipped


@pytest.mark.parametrize("fault", sorted(FAULTS), ids=str)
def test_broken_reference_gateway_is_flagged(control_runs, fault):
    run = control_runs[f"reference:{fault}"]
    assert run["exit"] == 1, run["stdout"][-2000:]
    assert failing(run) & EXPECTED[fault], f"{fault} was flagged only by {failing(run)}"
