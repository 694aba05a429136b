"""Known deviations are strict and consistent with the suite; black-box mode runs what it can."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gateway.configs import Upstreams, build
from harness.gateway.drivers import parse_impl
from harness.gateway.reference import ReferenceGateway
from harness.tools.maintainer.deviations.record import collected_checks, problems
from harness.verdict.deviations import DIRECTORY, Deviation, file_for, load

ROOT = Path(__file__).resolve().parents[1]


def pytest_suites(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "--no-report", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_pattern_matching_treats_brackets_literally():
    d = Deviation("test_a.py::test_b[x-*]", "R", "o")
    assert d.matches("suites/test_a.py::test_b[x-json]")
    assert not d.matches("suites/test_a.py::test_b[y-json]")
    assert not d.matches("suites/test_a.py::test_bb[x-json]")


@pytest.mark.parametrize("path", sorted(DIRECTORY.glob("*.yaml")), ids=lambda p: p.name)
def test_every_deviations_file_passes_its_own_check(path):
    """Each entry fingerprinted, matching a check under its requirement, no check listed twice; a
    profile's own file (``.isolated.yaml``) lists only settings-sensitive checks, the only ones run
    under it."""
    assert (
        problems(path, collected_checks(only_sensitive=path.name.endswith(".isolated.yaml"))) == []
    )


def test_each_settings_profile_has_its_own_deviations_file():
    assert file_for("litellm", "1.108.7").name == "litellm-1.108.7.yaml"
    assert file_for("litellm", "1.108.7", "isolated").name == "litellm-1.108.7.isolated.yaml"


def test_settings_sensitive_checks_are_the_ones_with_their_own_deployment():
    """fresh_model marks a check sensitive, except on the gateways whose settings are fixed."""
    sensitive = collected_checks(only_sensitive=True)
    assert any(
        n.startswith("test_errors.py::test_provider_error_status_reaches_the_client[")
        for n in sensitive
    )
    assert any(n.startswith("test_bedrock.py::test_bedrock_error_status") for n in sensitive)
    assert not any(
        n.startswith(("test_resilience.py", "test_load.py", "test_pipe.py")) for n in sensitive
    )


def test_an_isolated_file_listing_an_insensitive_check_is_refused(tmp_path):
    listed = tmp_path / "litellm-0.0.0.isolated.yaml"
    listed.write_text(
        textwrap.dedent("""
        deviations:
          - check: test_pipe.py::test_messages_json_reaches_anthropic_provider
            requirement: PIPE-001
            observed: not run under this profile
            fingerprint: {outcome: "call failed: AssertionError"}
    """)
    )
    assert problems(
        listed, collected_checks(only_sensitive=True), "among the settings-sensitive ones"
    ) == [
        "test_pipe.py::test_messages_json_reaches_anthropic_provider: matches no check among the "
        "settings-sensitive ones"
    ]


@pytest.mark.parametrize(
    "text",
    ["deviations: [{check: x}]", "deviations: [\n  - {", "\x00: :"],
    ids=["missing-fields", "truncated", "garbage"],
)
def test_broken_deviations_file_is_named_in_the_error(tmp_path, text):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(HarnessError, match=re.escape(str(path))):
        load(path)


def test_a_deviation_that_disappears_is_good_news_not_a_failure(tmp_path):
    listed = tmp_path / "fixed.yaml"
    listed.write_text(
        textwrap.dedent("""
        deviations:
          - check: test_pipe.py::test_messages_json_reaches_anthropic_provider
            requirement: PIPE-001
            observed: pretend this used to fail
    """)
    )
    done = pytest_suites(
        "--gateway-impl",
        "reference",
        "--deviations",
        str(listed),
        "-k",
        "test_messages_json_reaches_anthropic_provider",
        "-q",
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "SAFE  (1 fixed)" in done.stdout
    assert "good news: 1 known deviation(s) fixed or improved" in done.stdout


def test_a_deviation_listed_under_the_wrong_requirement_is_refused(tmp_path):
    listed = tmp_path / "wrong.yaml"
    listed.write_text(
        "deviations:\n  - {check: 'test_pipe.py::*', requirement: AUTH-001, observed: x}\n"
    )
    done = pytest_suites(
        "--gateway-impl", "reference", "--deviations", str(listed), "--collect-only", "-q"
    )
    assert done.returncode == 4
    assert "is listed under AUTH-001" in done.stderr


def test_black_box_mode_runs_only_journal_free_checks_and_they_pass(tmp_path):
    gateway = build("default", Upstreams("http://127.0.0.1:9", "http://127.0.0.1:9"))
    reference = ReferenceGateway(gateway, tmp_path)
    try:
        done = pytest_suites(
            "--gateway-url", reference.url, "--gateway-key", str(gateway.master_key), "-q"
        )
    finally:
        reference.stop()
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 30, summary
    assert "skipped" in summary


def test_black_box_mode_refuses_a_non_loopback_url():
    with pytest.raises(ValueError, match="only talks to loopback"):
        parse_impl("litellm", "https://gateway.example.com", "k")


def test_unknown_impl_is_a_usage_error():
    done = pytest_suites("--gateway-impl", "nginx", "--collect-only")
    assert done.returncode == 4
    assert re.search(r"--gateway-impl must be one of [a-z-]+(, [a-z-]+)*", done.stderr)
    assert "litellm" in done.stderr
    assert "nginx" in done.stderr
