"""The config linter flags what the quickstart gets wrong, and nothing in a good config."""

from __future__ import annotations

from harness.claude_code import default_model_names
from harness.gateway.configs import REGISTRY, Upstreams, build
from harness.gateway.configs.lint import config_problems

UP = Upstreams("http://127.0.0.1:1", "http://127.0.0.1:2")
# The quickstart's multi-provider example, as a user would paste it.
KEY = "os.environ/ANTHROPIC_API_KEY"
QUICKSTART = {
    "model_list": [
        {
            "model_name": "claude-3-5-sonnet-20241022",
            "litellm_params": {"model": "anthropic/claude-3-5-sonnet-20241022", "api_key": KEY},
        },
        {
            "model_name": "claude-sonnet-4-5-20250929[1m]",
            "litellm_params": {"model": "anthropic/claude-sonnet-4-5-20250929", "api_key": KEY},
        },
    ],
    "litellm_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
}


def codes(problems):
    return sorted(p.code for p in problems)


def test_harness_default_config_has_no_problems():
    gateway = build("default", UP)
    assert config_problems(gateway.config, gateway.env, default_model_names()) == []


def test_quickstart_config_problems_are_each_named():
    problems = config_problems(QUICKSTART, {}, ["claude-opus-5-5"])
    assert codes(problems) == [
        "1m-in-model-name",
        "master-key-placement",
        "missing-claude-code-model",
        "unset-env-reference",
        "unset-env-reference",
    ]
    assert "claude-sonnet-4-5-20250929[1m]" in str(problems[1])


def test_env_master_key_makes_the_placement_harmless():
    problems = config_problems(QUICKSTART, {"LITELLM_MASTER_KEY": "sk-x", "ANTHROPIC_API_KEY": "k"})
    assert codes(problems) == ["1m-in-model-name"]


def test_every_registered_config_resolves_its_env_references():
    for name in REGISTRY:
        if name == "virtual-keys-db":
            continue  # needs a database URL from the user
        gateway = build(name, UP)
        assert [
            p
            for p in config_problems(gateway.config, gateway.env)
            if p.code == "unset-env-reference"
        ] == []
