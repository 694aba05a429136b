"""The reference gateway's faults: each turns on one deliberate bug, so a self-test can prove a check flags it."""

from __future__ import annotations

FAULTS: dict[str, str] = {
    "drop-beta": "does not forward the anthropic-beta header",
    "reorder-events": "swaps two stream events",
    "leak-key": "forwards the client's gateway key to the provider",
    "openai-errors": "answers errors in OpenAI's envelope instead of Anthropic's",
    "no-auth": "accepts any key, or none",
    "bad-key-400": "refuses a missing or wrong key with 400 instead of 401 (as LiteLLM without a database)",
    "buffer-stream": "holds the whole stream back until the provider is done",
    "drop-fields": "drops body fields it does not know (thinking, context_management, ...)",
    "server-error-on-bad-request": "answers client mistakes with HTTP 500",
    "invent-message-stop": "adds a message_stop after a provider's error event",
    "server-error-on-bad-json": "answers a body that is not valid JSON with HTTP 500 (other client mistakes "
                                "get their 400)",
    "alternate-errors": "answers every other error it makes itself in OpenAI's envelope (a flaky gateway: "
                        "the same request gets a different answer on a second run)",
    "unknown-model-400": "answers an unknown model with 400 invalid_request_error instead of 404 (as LiteLLM does)",
    "inject-refused-field": "adds stream_options (an OpenAI field, as translating gateways do) to every Messages "
                            "request it forwards, which Anthropic refuses (provider rule ANTH-FIELD-001)",
    "complete-broken-stream": "ends a stream whose provider connection broke with message_delta and message_stop, "
                              "as if the answer were whole",
    "truncated-200": "answers a non-streamed request whose provider connection broke mid-body with 200 and what "
                     "arrived",
    "overload-as-500": "answers a provider's 529 with 500 api_error (as LiteLLM does)",
    "bench-all-after-error": "after any provider error, refuses every model for 5 s with 429 (a cooldown that "
                             "takes the whole gateway out)",
    "no-timeout": "ignores the deployment's timeout and waits for a silent provider as long as it takes",
    "drop-backoff-headers": "drops retry-after, x-should-retry and the anthropic-ratelimit-* headers",
    "keep-upstream-after-leave": "keeps its provider call open after the client left, reading the answer to its end",
    "retry-for-nobody": "retries a provider 429/5xx twice, after retry-after, even when the client has left",
    "stream-deadline": "ends every stream 8 s after it began, with an error event (a total timeout instead of an "
                       "idle one)",
    "fallback-restart": "on an error mid-stream, calls the model's fallback and relays its whole stream after the "
                        "broken one (two message_starts in one stream)",
    "quickstart-open": "starts with no auth on a config whose master_key is under litellm_settings (the "
                       "quickstart's placement), as LiteLLM does, instead of refusing to start",
}
