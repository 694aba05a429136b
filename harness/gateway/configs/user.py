"""A user's own LiteLLM config, made safe to run here:
``pytest suites/ --litellm-config config.yaml``.

Every provider's ``api_base`` is pointed at a fake and every credential replaced by
a dummy, so nothing real is needed and nothing leaves the machine. Anthropic, OpenAI
and Bedrock models run against their fakes; providers the fakes do not serve yet
(Vertex, ...) are taken out and named. The harness's
own reference models are added beside the user's (under names the user does not
use), so every check in the catalogue has something to run against, while the
model-name checks look only at the user's entries.
"""

from __future__ import annotations

import copy
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.claude_code import PROFILES
from harness.errors import HarnessError
from harness.gateway.configs import (
    VERTEX_LOCATION,
    VERTEX_PROJECT,
    GatewayConfig,
    Upstreams,
    default_config,
    upstream_env,
    vertex_credentials,
)
from harness.gateway.configs.lint import Problem, config_problems, env_refs

SERVED = frozenset({"anthropic", "openai", "bedrock", "vertex_ai"})
CREDENTIAL_KEYS = {
    "api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_credentials",
    "azure_ad_token",
    "api_version",
    # Each of these would send LiteLLM to STS, a profile or another endpoint, not to the fake.
    "aws_role_name",
    "aws_session_name",
    "aws_profile_name",
    "aws_web_identity_token",
    "aws_sts_endpoint",
    "aws_bedrock_runtime_endpoint",
}


@dataclass
class UserConfigReport:
    path: str
    problems: list[str] = field(default_factory=list)
    not_served_by_fakes: list[str] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)
    claude_code: dict[str, dict[str, Any]] = field(default_factory=dict)


def load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise HarnessError(f"--litellm-config {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise HarnessError(f"--litellm-config {path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("model_list"), list):
        raise HarnessError(
            f"--litellm-config {path}: expected a mapping with a model_list, "
            "as LiteLLM's config.yaml"
        )
    return data


def _served_entry(entry: dict[str, Any], upstreams: Upstreams) -> dict[str, Any] | None:
    params = dict(entry.get("litellm_params") or {})
    provider = str(params.get("model", "")).split("/")[0]
    if provider not in SERVED or (
        provider == "vertex_ai" and "claude" not in str(params.get("model"))
    ):
        return None  # the fake Vertex serves Anthropic's models (rawPredict), not Gemini's
    for key in CREDENTIAL_KEYS:
        params.pop(key, None)
    if provider == "anthropic":
        params.update(
            api_base=upstreams.anthropic_url, api_key="os.environ/FAKE_ANTHROPIC_UPSTREAM_KEY"
        )
    elif provider == "bedrock":
        params.update(
            api_base=upstreams.bedrock_url,
            aws_access_key_id="os.environ/FAKE_AWS_ACCESS_KEY_ID",
            aws_secret_access_key="os.environ/FAKE_AWS_SECRET_ACCESS_KEY",
        )
        params.setdefault("aws_region_name", "us-east-1")
    elif provider == "vertex_ai":
        params.update(
            api_base=upstreams.vertex_url, vertex_credentials="os.environ/FAKE_VERTEX_CREDENTIALS"
        )
        params.setdefault("vertex_project", VERTEX_PROJECT)
        params.setdefault("vertex_location", VERTEX_LOCATION)
    else:
        params.update(
            api_base=upstreams.openai_url + "/v1", api_key="os.environ/FAKE_OPENAI_UPSTREAM_KEY"
        )
    return {**entry, "litellm_params": params}


def claude_code_coverage(
    user_models: list[str], versions: list[str] | None
) -> dict[str, dict[str, Any]]:
    """For each chosen Claude Code version: does the config serve every model it asks for by
    default?"""
    out = {}
    for profile in PROFILES:
        if versions and profile["version"] not in versions:
            continue
        wanted = sorted(set(profile["defaults"].values()))
        missing = [m for m in wanted if m not in user_models]
        out[profile["version"]] = {"served": not missing, "wanted": wanted, "missing": missing}
    return out


def adapt(
    path: Path, upstreams: Upstreams, versions: list[str] | None = None
) -> tuple[GatewayConfig, UserConfigReport]:
    original = load(path)
    report = UserConfigReport(str(path))
    wanted = sorted(
        {
            m
            for p in PROFILES
            if not versions or p["version"] in versions
            for m in p["defaults"].values()
        }
    )
    problems: list[Problem] = config_problems(original, os.environ, wanted)
    report.problems = [str(p) for p in problems]
    config = copy.deepcopy(original)
    user_models, entries = [], []
    for entry in config["model_list"]:
        if not isinstance(entry, dict):
            continue
        user_models.append(str(entry.get("model_name")))
        served = _served_entry(entry, upstreams)
        if served is None:
            report.not_served_by_fakes.append(
                f"{entry.get('model_name')} ({(entry.get('litellm_params') or {}).get('model')})"
            )
        else:
            entries.append(served)
    reference = default_config(upstreams)
    entries += [m for m in reference.config["model_list"] if m["model_name"] not in user_models]
    config["model_list"] = entries
    env = {
        **upstream_env(upstreams),
        "FAKE_ANTHROPIC_BASE": upstreams.anthropic_url,
        "FAKE_AWS_ACCESS_KEY_ID": upstreams.aws_access_key_id,
        "FAKE_AWS_SECRET_ACCESS_KEY": upstreams.aws_secret_access_key,
        **upstreams.egress_env,
    }
    if upstreams.vertex_url:
        env["FAKE_VERTEX_CREDENTIALS"] = vertex_credentials(upstreams.vertex_url)
    key = _master_key(config, env, report)
    for name in sorted(set(env_refs(config)) - set(env)):
        env[name] = f"dummy-{name.lower()}"
    general = config.setdefault("general_settings", {})
    if general.pop("database_url", None):
        report.adjustments.append("general_settings.database_url removed: no database here")
    report.claude_code = claude_code_coverage(user_models, versions)
    gateway = GatewayConfig("default", config, env, key)
    gateway.user_models = user_models
    gateway.source_config = original
    return gateway, report


def _master_key(config: dict[str, Any], env: dict[str, str], report: UserConfigReport) -> str:
    """Keep the config's own way of naming its key, with a random value; add one only if it has
    none."""
    key = "sk-gw-" + secrets.token_hex(16)
    general = config.setdefault("general_settings", {})
    declared = general.get("master_key")
    if isinstance(declared, str) and declared.startswith("os.environ/"):
        env[declared.removeprefix("os.environ/")] = key
        return key
    if declared:
        return str(declared)
    # LiteLLM ignores litellm_settings.master_key but reads LITELLM_MASTER_KEY, as the quickstart
    # exports it.
    env["LITELLM_MASTER_KEY"] = key
    placed = (config.get("litellm_settings") or {}).get("master_key")
    if not (isinstance(placed, str) and placed == "os.environ/LITELLM_MASTER_KEY"):
        report.adjustments.append(
            "LITELLM_MASTER_KEY set for the proxy: the config names no master key LiteLLM reads"
        )
    return key
