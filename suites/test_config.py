"""CONFIG: static problems in the config under test (most useful with --litellm-config)."""

from __future__ import annotations

import os

import pytest

from harness.claude_code import default_model_names
from harness.gateway.configs.lint import config_problems


@pytest.mark.req("CONFIG-001")
@pytest.mark.needs("config")
def test_config_has_no_known_problems(proxy, observe):
    """The config under test has no known problem (key placement, [1m] names, unset env refs,
    missing models)."""
    gateway = proxy.gateway
    if (
        gateway.source_config is not None
    ):  # a user's config, judged as they wrote it, in their environment
        problems = config_problems(gateway.source_config, os.environ, default_model_names())
    else:
        problems = config_problems(gateway.config, gateway.env, default_model_names())
    observe("problems", [str(p) for p in problems])
    assert problems == [], "\n".join(str(p) for p in problems)
