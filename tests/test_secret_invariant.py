"""The secret invariant runs on every exchange of every check (issue 39): a check about something
else fails as [SECURITY] when a secret reaches its client or its part of the gateway's log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from suite_run import run_suite

from harness.verdict.fingerprint import leaked

ROOT = Path(__file__).resolve().parents[1]
# Checks about other things: a status, a body; neither looks for secrets itself.
STATUS = "suites/test_errors.py::test_provider_error_status_reaches_the_client[anthropic-500]"
PIPE = "suites/test_pipe.py::test_messages_json_reaches_anthropic_provider"


def _run(tmp_path: Path, fault: str, check: str) -> dict:
    out = tmp_path / fault
    done = run_suite(check, "--gateway-impl", f"reference:{fault}", "--report-dir", str(out))
    assert done.returncode == 1, done.stdout[-3000:]
    assert "[SECURITY] during this check" in done.stdout
    (result,) = json.loads((out / "compat.json").read_text())["results"]
    return result


@pytest.mark.parametrize(
    ("fault", "check", "place"),
    [
        ("provider-key-in-error", STATUS, "client: the Anthropic provider key in the body of"),
        ("master-key-in-log", PIPE, "log: the master key"),
    ],
    ids=["key-in-an-error-body", "master-key-in-the-log"],
)
def test_a_check_about_something_else_fails_when_a_secret_shows(tmp_path, fault, check, place):
    result = _run(tmp_path, fault, check)
    places = result["fingerprint"]["secret_exposed"]
    assert any(p.startswith(place) for p in places), places
    assert result["outcome"] == "fail"


def test_a_log_the_harness_could_not_read_is_no_leak():
    assert leaked({"secret_exposed": "<could not observe: FileNotFoundError>"}) == ""
    assert leaked({"secret_exposed": ["log: the master key"]}) == "log: the master key"


def test_a_failures_text_names_the_master_key_instead_of_quoting_it(tmp_path):
    """A failure quotes the transcript, whose every request carries the gateway's key: the run's
    JSON (and so a deviations entry and the report) gets the key's name instead (issue 39)."""
    done = run_suite(PIPE, "--gateway-impl", "reference:empty-200", "--report-dir", str(tmp_path))
    assert done.returncode == 1, done.stdout[-3000:]
    (result,) = json.loads((tmp_path / "compat.json").read_text())["results"]
    failure = result["evidence"]["failure"]
    assert "authorization: Bearer <the master key>" in failure, failure[-2000:]
    assert "Bearer sk-" not in failure
    assert "Bearer sk-" not in done.stdout
