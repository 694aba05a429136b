"""COST: what LiteLLM charges for a Claude Code answer, against its own price map.

A wrong cost is a wrong bill for every Claude Code user of the gateway. For known usage
(input, output, cache reads, cache writes at 5 min and at 1 h, web searches), the cost
LiteLLM reports in ``x-litellm-response-cost`` and the cost it books as spend (what its
success callback is handed) must equal the price map's own prices for that model.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from harness.fakes import RawMessage
from harness.gateway.configs import SONNET
from harness.protocol.client import message_body

from .support.asserts import assert_status
from .support.features import FEATURES
from .support.prices import expected_cost, model_prices

pytestmark = [
    pytest.mark.gateway("cost"),
    pytest.mark.needs("cost-tracking"),
    pytest.mark.settings(
        callbacks="custom_callbacks.proxy_handler_instance (a success callback that writes the "
        "cost LiteLLM books as spend; without a database there is no other place to read it)"
    ),
]

USAGES = {
    "plain": {"input_tokens": 1000, "output_tokens": 500},
    "cache-read": {
        "input_tokens": 40,
        "output_tokens": 500,
        "cache_read_input_tokens": 20000,
        "cache_creation_input_tokens": 0,
    },
    "cache-write-5m": {
        "input_tokens": 40,
        "output_tokens": 500,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 8000,
        "cache_creation": {"ephemeral_5m_input_tokens": 8000, "ephemeral_1h_input_tokens": 0},
    },
    "cache-write-1h": {
        "input_tokens": 40,
        "output_tokens": 500,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 8000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 8000},
    },
    "web-search": {
        **FEATURES["web-search"].usage,
        "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 0},
    },
}
STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="stream")]


def _answer(case: str) -> dict[str, object]:
    content = (
        FEATURES["web-search"].content if case == "web-search" else [{"type": "text", "text": "ok"}]
    )
    return {**FEATURES["web-search"].answer(SONNET), "content": content, "usage": USAGES[case]}


def _booked(proxy, since: int = 0) -> list[dict[str, object]]:
    """What the success callback wrote, from line ``since`` on."""
    log = proxy.config_path.parent / "costs.jsonl"
    lines = log.read_text().splitlines()[since:] if log.exists() else []
    return [json.loads(line) for line in lines]


@pytest.mark.req("COST-001")
@pytest.mark.parametrize("case", USAGES, ids=str)
def test_reported_cost_is_the_price_map_cost_of_the_usage(
    gateway, anthropic_provider, litellm_python, case, observe
):
    """x-litellm-response-cost on a non-streamed answer is the price map's cost of the provider's
    usage."""
    anthropic_provider.script("messages", RawMessage(_answer(case)))
    ex = gateway.messages(message_body(SONNET))
    assert_status(ex, 200)
    expected = expected_cost(model_prices(litellm_python, SONNET), USAGES[case])
    reported = ex.headers.get("x-litellm-response-cost")
    observe("reported", reported)
    observe("expected", round(expected, 9))
    assert reported is not None, "no x-litellm-response-cost header"
    assert math.isclose(float(reported), expected, rel_tol=1e-6), (
        f"expected ${expected:.6f}, observed ${reported}"
    )


@pytest.mark.req("COST-002")
@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("case", USAGES, ids=str)
def test_booked_cost_is_the_price_map_cost_of_the_usage(
    gateway, proxy, anthropic_provider, litellm_python, case, stream, observe
):
    """The cost LiteLLM books as spend for an answer, streamed or not, is the price map's cost of
    its usage."""
    since = len(_booked(proxy))
    anthropic_provider.script("messages", RawMessage(_answer(case)))
    ex = gateway.messages(message_body(SONNET, stream=stream))
    assert_status(ex, 200)
    booked = _wait_for_booking(proxy, since, ex.headers.get("x-litellm-call-id"))
    expected = expected_cost(model_prices(litellm_python, SONNET), USAGES[case])
    observe("booked", [b.get("response_cost") for b in booked])
    observe("expected", round(expected, 9))
    assert len(booked) == 1, f"expected one booking, observed {booked}"
    cost = booked[0].get("response_cost")
    assert isinstance(cost, (int, float)), f"no cost booked: {booked[0]}"
    assert math.isclose(float(cost), expected, rel_tol=1e-6), (
        f"expected ${expected:.6f}, observed ${cost}"
    )


def _wait_for_booking(
    proxy, since: int, call_id: str | None, timeout: float = 5.0
) -> list[dict[str, object]]:
    """The callback runs after the answer is sent; wait for this call's booking briefly.

    An earlier check's booking can land after ``since`` on a loaded machine, so bookings are
    matched on LiteLLM's call id when the answer carries one.
    """

    def mine() -> list[dict[str, object]]:
        return [b for b in _booked(proxy, since) if call_id is None or b.get("call_id") == call_id]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mine():
            time.sleep(0.2)  # a second booking for the same answer would be a bug worth seeing
            return mine()
        time.sleep(0.05)
    return []
