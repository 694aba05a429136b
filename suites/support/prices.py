"""LiteLLM's own price map, read from the environment under test, and the cost it implies for a
usage.

The map is read in a subprocess of the LiteLLM interpreter under test (the suite may test
another environment's LiteLLM), with the local copy LiteLLM ships, as the proxy reads it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from typing import Any

from harness.claude_code.cli import CACHE as CLI_CACHE
from harness.errors import HarnessError
from harness.gateway.process import litellm_version

CACHE = CLI_CACHE.parent / "prices"  # beside the CLIs: the checkout's .cache/, or the user's

_READ = "import json, litellm, sys; print(json.dumps(litellm.model_cost.get(sys.argv[1])))"


def model_prices(python: str, model: str) -> dict[str, Any]:
    """The price map's entry for ``model``, read once per LiteLLM install and kept on disk.

    Importing LiteLLM takes four CPU-seconds, paid by every worker that runs a cost check (and
    pytest's own cache is off in the gate's runs); the map a release ships does not change, so the
    entry is kept under the release and its interpreter.
    """
    digest = hashlib.sha1(python.encode()).hexdigest()[:12]
    kept = CACHE / f"{litellm_version(python)}-{digest}-{model}.json"
    if kept.is_file():
        return dict(json.loads(kept.read_text()))
    prices = _read_prices(python, model)
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(prices))
    partial.replace(kept)  # another worker may write the same entry at the same time
    return prices


@functools.cache
def _read_prices(python: str, model: str) -> dict[str, Any]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [python, "-c", _READ, model], capture_output=True, text=True, env=env, timeout=120
    )
    prices = (
        json.loads(done.stdout.strip().splitlines()[-1])
        if done.returncode == 0 and done.stdout
        else None
    )
    if not isinstance(prices, dict):
        raise HarnessError(
            f"LiteLLM's price map ({python}) has no entry for {model}: {done.stderr[-500:]}"
        )
    return prices


def expected_cost(prices: dict[str, Any], usage: dict[str, Any]) -> float:
    """What Anthropic bills for ``usage`` at these prices: input, output, cache reads, cache writes
    at 5 min and at 1 h, and web searches (priced per query)."""
    split = usage.get("cache_creation") or {}
    written_1h = int(split.get("ephemeral_1h_input_tokens", 0))
    written_5m = int(
        split.get(
            "ephemeral_5m_input_tokens", usage.get("cache_creation_input_tokens", 0) - written_1h
        )
    )
    searches = int((usage.get("server_tool_use") or {}).get("web_search_requests", 0))
    per_search = float(
        (prices.get("search_context_cost_per_query") or {}).get("search_context_size_medium", 0.0)
    )
    return float(
        usage.get("input_tokens", 0) * prices["input_cost_per_token"]
        + usage.get("output_tokens", 0) * prices["output_cost_per_token"]
        + usage.get("cache_read_input_tokens", 0) * prices.get("cache_read_input_token_cost", 0.0)
        + written_5m * prices.get("cache_creation_input_token_cost", 0.0)
        + written_1h
        * prices.get(
            "cache_creation_input_token_cost_above_1hr",
            prices.get("cache_creation_input_token_cost", 0.0),
        )
        + searches * per_search
    )
