"""--litellm-config: a user's config runs against fakes only, and the report names its problems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gateway.configs import Upstreams, assert_loopback_only
from harness.gateway.configs.user import adapt, load

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart-multi-provider.yaml"
UP = Upstreams("http://127.0.0.1:1", "http://127.0.0.1:2", bedrock_url="http://127.0.0.1:3")


def test_adapted_config_reaches_only_fakes_with_dummy_credentials():
    gateway, report = adapt(QUICKSTART, UP)
    assert_loopback_only(gateway)
    entries = {m["model_name"]: m["litellm_params"] for m in gateway.config["model_list"]}
    assert entries["gpt-4o"]["api_base"] == "http://127.0.0.1:2/v1"
    assert (
        entries["claude-3-5-sonnet-20241022"]["api_key"] == "os.environ/FAKE_ANTHROPIC_UPSTREAM_KEY"
    )
    assert entries["claude-bedrock"]["api_base"] == "http://127.0.0.1:3"
    assert entries["claude-bedrock"]["aws_access_key_id"] == "os.environ/FAKE_AWS_ACCESS_KEY_ID"
    assert entries["claude-bedrock"]["aws_region_name"] == "us-east-1"
    assert gateway.env["FAKE_AWS_SECRET_ACCESS_KEY"] == UP.aws_secret_access_key
    assert report.not_served_by_fakes == [], (
        "every model of the quickstart is served, claude-bedrock included"
    )
    assert gateway.env["LITELLM_MASTER_KEY"] == gateway.master_key
    assert gateway.user_models == [
        "codex-mini",
        "o3-pro",
        "gpt-4o",
        "claude-3-5-sonnet-20241022",
        "claude-3-5-haiku-20241022",
        "claude-bedrock",
    ]


def test_claude_code_coverage_names_the_missing_models():
    _, report = adapt(QUICKSTART, UP, versions=["2.0.77"])
    names = ["claude-haiku-4-5-20251001", "claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929"]
    assert report.claude_code == {"2.0.77": {"served": False, "wanted": names, "missing": names}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model_list: [\n  - {", "not valid YAML"),
        ("- just a list", "expected a mapping with a model_list"),
    ],
    ids=["bad-yaml", "not-a-config"],
)
def test_bad_user_config_is_named(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(HarnessError, match=message):
        load(path)


# --gateway-config is the option's name since issue 41; --litellm-config, the older one, works too.
@pytest.mark.parametrize("option", ["--gateway-config", "--litellm-config"])
def test_bad_user_config_stops_the_run_with_a_usage_error(tmp_path, option):
    path = tmp_path / "config.yaml"
    path.write_text("model_list: [\n  - {")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            option,
            str(path),
            "--co",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4
    assert f"--litellm-config {path}: not valid YAML" in done.stderr


def test_quickstart_config_run_produces_a_report_naming_its_problems(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "--litellm-config",
            str(QUICKSTART),
            "-q",
            "-p",
            "no:cacheprovider",
            "--tb=no",
            "--report-dir",
            str(tmp_path),
            "-k",
            "test_config or test_claude_code_default_model_is_routable",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    run = json.loads((tmp_path / "compat.json").read_text())
    problems = " ".join(run["info"]["user_config"]["problems"])
    assert "[master-key-placement]" in problems
    assert "[missing-claude-code-model] Claude Code asks for 'claude-opus-5-5'" in problems
    assert run["info"]["user_config"]["not_served_by_fakes"] == []
    html = (tmp_path / "compat.html").read_text()
    assert "Your config:" in html
    assert "Claude Code 2.1.332: NOT served" in html


def test_vertex_claude_models_are_served_and_gemini_is_named(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: claude-vertex\n"
        "    litellm_params: {model: vertex_ai/claude-sonnet-4-5@20250929, vertex_project: mine,\n"
        "                     vertex_location: europe-west1, "
        "vertex_credentials: os.environ/GOOGLE_CREDS}\n"
        "  - model_name: gemini\n"
        "    litellm_params: {model: vertex_ai/gemini-2.5-pro, vertex_project: mine}\n"
    )
    up = Upstreams("http://127.0.0.1:1", "http://127.0.0.1:2", vertex_url="http://127.0.0.1:4")
    gateway, report = adapt(config, up)
    served = {m["model_name"]: m["litellm_params"] for m in gateway.config["model_list"]}[
        "claude-vertex"
    ]
    assert (served["api_base"], served["vertex_location"]) == ("http://127.0.0.1:4", "europe-west1")
    assert served["vertex_credentials"] == "os.environ/FAKE_VERTEX_CREDENTIALS"
    assert (
        json.loads(gateway.env["FAKE_VERTEX_CREDENTIALS"])["token_uri"]
        == "http://127.0.0.1:4/token"
    )
    assert report.not_served_by_fakes == ["gemini (vertex_ai/gemini-2.5-pro)"]
