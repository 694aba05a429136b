"""Gateway configs: built in Python, written as YAML, keyed by name.

A test picks a config with ``@pytest.mark.gateway("name")``; the default is
``"default"``. Each named config starts at most one proxy per session, and all
the configs a run needs start concurrently. Importing this package registers every builder.
"""

from harness.gateway.configs.builders import (
    LOAD_MODEL,
    QUICKSTART_ENV_DEFAULTS,
    QUICKSTART_EXAMPLE_KEY,
    QUICKSTART_MODELS,
    VK_ALIAS_B,
    VK_MODEL_A,
    VK_MODEL_B,
    default_config,
    renamed,
)
from harness.gateway.configs.cloud import (
    BEDROCK_CONVERSE_MODEL,
    BEDROCK_INVOKE_MODEL,
    BEDROCK_REGION,
    VERTEX_LOCATION,
    VERTEX_MODEL,
    VERTEX_PASSTHROUGH_MODEL,
    VERTEX_PROJECT,
    providers_config,
    vertex_credentials,
)
from harness.gateway.configs.deployed import (
    DEPLOYED_GATEWAYS,
    PAIR_FIRST_IDS,
    POOL_FALLBACK,
    fallback_group,
)
from harness.gateway.configs.model import (
    ALIAS_MODEL,
    CLAUDE_CODE_DEFAULT_MODELS,
    ENV_ROUTED_MODEL,
    OPENAI_ALIAS_MODEL,
    OPENAI_MODEL,
    REGISTRY,
    SETTINGS_PROFILES,
    SONNET,
    ConfigBuilder,
    GatewayConfig,
    Upstreams,
    anthropic_model,
    apply_settings,
    assert_loopback_only,
    build,
    config_digest,
    gateway_config,
    new_master_key,
    upstream_env,
)
from harness.gateway.configs.pools import (
    is_pool_name,
)

__all__ = [
    "ALIAS_MODEL",
    "BEDROCK_CONVERSE_MODEL",
    "BEDROCK_INVOKE_MODEL",
    "BEDROCK_REGION",
    "CLAUDE_CODE_DEFAULT_MODELS",
    "DEPLOYED_GATEWAYS",
    "ENV_ROUTED_MODEL",
    "LOAD_MODEL",
    "OPENAI_ALIAS_MODEL",
    "OPENAI_MODEL",
    "PAIR_FIRST_IDS",
    "POOL_FALLBACK",
    "QUICKSTART_ENV_DEFAULTS",
    "QUICKSTART_EXAMPLE_KEY",
    "QUICKSTART_MODELS",
    "REGISTRY",
    "SETTINGS_PROFILES",
    "SONNET",
    "VERTEX_LOCATION",
    "VERTEX_MODEL",
    "VERTEX_PASSTHROUGH_MODEL",
    "VERTEX_PROJECT",
    "VK_ALIAS_B",
    "VK_MODEL_A",
    "VK_MODEL_B",
    "ConfigBuilder",
    "GatewayConfig",
    "Upstreams",
    "anthropic_model",
    "apply_settings",
    "assert_loopback_only",
    "build",
    "config_digest",
    "default_config",
    "fallback_group",
    "gateway_config",
    "is_pool_name",
    "new_master_key",
    "providers_config",
    "renamed",
    "upstream_env",
    "vertex_credentials",
]
