"""The reference gateway's faults: each turns on one deliberate bug, so a self-test can prove a
check flags it."""

from __future__ import annotations

from collections.abc import Mapping

from harness.gateway.reference.variations import NAMES

FAULTS: dict[str, str] = {
    "drop-beta": "does not forward the anthropic-beta header",
    "reorder-events": "swaps two stream events",
    "leak-key": "forwards the client's gateway key to the provider",
    "provider-key-in-error": "answers a provider's error with a message naming the provider key "
    "it used",
    "master-key-in-log": "writes the master key into its log line for every request",
    "sticky-fields": "carries the last request's max_tokens, temperature and top_k into the next",
    "openai-errors": "answers errors in OpenAI's envelope instead of Anthropic's (error bodies and "
    "error events)",
    "no-auth": "accepts any key, or none",
    "bad-key-400": "refuses a missing or wrong key with 400 instead of 401 (as LiteLLM without a "
    "database)",
    "buffer-stream": "holds the whole stream back until the provider is done",
    "drop-fields": "drops body fields it does not know (thinking, context_management, ...)",
    "server-error-on-bad-request": "answers client mistakes with HTTP 500",
    "invent-message-stop": "adds a message_stop after a provider's error event",
    "server-error-on-bad-json": "answers a body that is not valid JSON with HTTP 500 (other client "
    "mistakes get their 400)",
    "alternate-errors": "answers every other error it makes itself in OpenAI's envelope (a flaky "
    "gateway: the same request gets a different answer on a second run)",
    "unknown-model-400": "answers an unknown model with 400 invalid_request_error instead of 404 "
    "(as LiteLLM does)",
    "inject-refused-field": "adds stream_options (an OpenAI field, as translating gateways do) to "
    "every Messages request it forwards, which Anthropic refuses (provider rule ANTH-FIELD-001)",
    "complete-broken-stream": "ends a stream whose provider connection broke with message_delta "
    "and message_stop, as if the answer were whole",
    "truncated-200": "answers a non-streamed request whose provider connection broke mid-body with "
    "200 and what arrived",
    "overload-as-500": "answers a provider's 529 with 500 api_error (as LiteLLM does)",
    "bench-all-after-error": "after any provider error, refuses every model for 5 s with 429 (a "
    "cooldown that takes the whole gateway out)",
    "no-timeout": "ignores the deployment's timeout and waits for a silent provider as long as it "
    "takes",
    "drop-backoff-headers": "drops retry-after, x-should-retry and the anthropic-ratelimit-* "
    "headers",
    "keep-upstream-after-leave": "keeps its provider call open after the client left, reading the "
    "answer to its end",
    "retry-for-nobody": "retries a provider 429/5xx twice, after retry-after, even when the client "
    "has left",
    "stream-deadline": "ends every stream 8 s after it began, with an error event (a total timeout "
    "instead of an idle one)",
    "fallback-restart": "on an error mid-stream, calls the model's fallback and relays its whole "
    "stream after the broken one (two message_starts in one stream)",
    "empty-200": "answers every success with HTTP 200 and an empty body: {} for JSON, a stream "
    "with no events",
    "openai-shaped-200": "answers a Messages success as OpenAI's chat.completion and a count as "
    "OpenAI's usage (a translating gateway that forgot to translate back)",
    "literal-env-refs": "sends the config's api_key reference (os.environ/…) to the provider as "
    "written, unresolved",
    "list-all-models": "lists every model on /v1/models, whatever the key may use",
    "unknown-model-to-default": "routes a model it does not serve to its first deployment instead "
    "of refusing it",
    "suffix-500": "answers a model name carrying a suffix such as [1m] with HTTP 500",
    "passthrough-normalizes": "re-serializes a pass-through body keeping only the Messages fields "
    "it knows",
    "passthrough-messages-only": "passes through /v1/messages only (count_tokens and the rest get "
    "404)",
    "header-allowlist": "forwards only anthropic-version, anthropic-beta, content-type and accept "
    "to the provider",
    "drop-mixed-case-headers": "drops request headers whose names are not all lower case",
    "errors-as-500": "answers every provider error with HTTP 500 api_error, the provider's answer "
    "in its message",
    "stream-refusal-as-200": "answers a provider's refusal of a streamed request with HTTP 200 and "
    "an error event",
    "truncate-tool-json": "drops the first input_json_delta of each streamed tool input",
    "drop-signature": "drops the signature_delta of streamed thinking",
    "blank-redacted-thinking": "empties the data of a streamed redacted_thinking block",
    "drop-signature-only-thinking": "drops thinking blocks with an empty text (signature only) "
    "from the JSON answers it relays and the turns it forwards (LiteLLM PR #38809)",
    "one-block-index": "numbers every streamed content block 0",
    "drop-cache-usage": "drops the cache token counts from an answer's usage and a stream's "
    "message_start and message_delta usage",
    "drop-server-blocks": "drops answer blocks other than text, tool_use and thinking (server tool "
    "use and results)",
    "strip-citations": "drops the citations of answer text blocks (and citations_delta events)",
    "strip-cache-control": "removes cache_control from every block of the request it forwards",
    "flatten-media": "replaces the image and document blocks of a request with a text placeholder",
    "prepend-system": "adds its own system block before the client's system entries",
    "openai-model-list": "answers /v1/models in OpenAI's list shape (object, owned_by) instead of "
    "Anthropic's",
    "models-first-page": "lists only the first 10 models on /v1/models",
    "slow-models": "answers /v1/models after 3.5 s, past Claude Code's 3 s discovery timeout",
    "list-unserved-ids": "lists each model under an id it does not serve (its name with -listed "
    "appended)",
    "redirect-models": "answers /v1/models with a query string (Claude Code's ?limit=1000) with a "
    "307 to /v1/models",
    "rename-model": "names its internal deployment in the answer's model field instead of the "
    "requested model",
    "ping-first": "sends a ping ahead of message_start",
    "invent-count": "answers count_tokens with its own estimate instead of asking the provider",
    "slow-probe": "answers Claude Code's HEAD startup probe after 11 s, past the CLI's 10 s abort",
    "health-needs-key": "asks for a key on the health endpoints",
    "probe-500": "answers Claude Code's HEAD startup probe with 500",
    "query-routes": "matches its routes on the whole request target, query included, so "
    "/v1/messages?beta=true finds no route",
    "refuse-custom-headers": "refuses with 400 a request carrying an x- header other than the key "
    "and Claude Code's own (an operator's ANTHROPIC_CUSTOM_HEADERS)",
    "substitute-model": "forwards each /v1/messages request with another model id the same "
    "provider serves (a silent substitution)",
    "host-route-confusion": "judges a management route's auth on the URL rebuilt from the Host "
    "header, so a Host carrying a path opens it (LiteLLM before 1.84.0, CVE-2026-49468)",
    "mcp-any-bearer": "opens an MCP session for any Bearer token (LiteLLM before 1.84.0, "
    "CVE-2026-59822)",
    "quickstart-open": "starts with no auth on a config whose master_key is under litellm_settings "
    "(the quickstart's placement), as LiteLLM does, instead of refusing to start",
}

# The checks that once judged a success by its status alone; each now reads the answer.
STATUS_ONLY = {
    "AUTH-001",
    "AUTH-002",
    "KEYS-001",
    "PROTO-002",
    "PROTO-004",
    "PROTO-013",
    "PASS-008",
    "MODELS-001",
}

# The kill matrix's promises: the requirements each fault must make fail (python -m harness controls
# proves them; tests/test_controls.py holds CI to them). A requirement is *proven* when a fault that
# breaks exactly its behaviour kills it.
KILLS: dict[str, frozenset[str]] = {
    fault: frozenset(reqs)
    for fault, reqs in {
        "drop-beta": {"PIPE-006", "CTX1M-001", "PASS-002", "COUNT-003", "REPLAY-002"},
        "reorder-events": {"PASS-003", "STREAM-010"},
        "leak-key": {"AUTH-001", "AUTH-005", "PASS-005"},
        "provider-key-in-error": {"KEYS-006"},
        "master-key-in-log": {"KEYS-007"},
        "sticky-fields": {"STATE-001", "STATE-002"},
        "host-route-confusion": {"ADMIN-002"},
        "mcp-any-bearer": {"ADMIN-003"},
        "openai-errors": {"AUTH-004", "ERR-002", "ERR-004", "ERR-007", "KEYS-002", "PASS-007"},
        "no-auth": {
            "AUTH-003",
            "AUTH-004",
            "AUTH-007",
            "KEYS-002",
            "KEYS-004",
            "PASS-004",
            "ADMIN-001",
        },
        "bad-key-400": {"AUTH-003", "AUTH-004", "PASS-004"},
        "buffer-stream": {"STREAM-008", "STREAM-011"},
        "drop-fields": {"FIELDS-001", "FEAT-004", "FEAT-006", "FEAT-007", "PROTO-006"},
        "server-error-on-bad-request": {"ERR-005"},
        "invent-message-stop": {"STREAM-007", "RESIL-010"},
        "quickstart-open": {"AUTH-008"},
        "server-error-on-bad-json": {"ERR-005"},
        "alternate-errors": {"AUTH-004", "ERR-004"},
        "unknown-model-400": {"ROUTE-002"},
        "inject-refused-field": {"ROUTE-008", "ROUTE-001"},
        "complete-broken-stream": {"RESIL-001"},
        "truncated-200": {"RESIL-002"},
        "overload-as-500": {"RESIL-003", "RESIL-009", "PROTO-008"},
        "bench-all-after-error": {"RESIL-004", "RESIL-005"},
        "no-timeout": {"RESIL-006"},
        "drop-backoff-headers": {"RESIL-009", "ERR-003", "PROTO-009", "PROTO-010", "PROTO-011"},
        "keep-upstream-after-leave": {"RESIL-007", "RESIL-008", "RESIL-014"},
        "retry-for-nobody": {"RESIL-013"},
        "stream-deadline": {"RESIL-012", "STREAM-012"},
        "fallback-restart": {"RESIL-011"},
        # A success judged by its content (issue 25): the checks that once passed on any 200 now
        # fail on these.
        "empty-200": STATUS_ONLY
        | {
            "PIPE-001",
            "HEALTH-001",
            "PIPE-002",
            "PIPE-005",
            "STREAM-001",
            "COUNT-001",
            "REPLAY-001",
        },
        "openai-shaped-200": STATUS_ONLY | {"PIPE-001"},
        "literal-env-refs": {"AUTH-006", "ROUTE-004"},
        "list-all-models": {"KEYS-003"},
        "unknown-model-to-default": {"ROUTE-003"},
        "suffix-500": {"CTX1M-002"},
        "passthrough-normalizes": {"PASS-001"},
        "passthrough-messages-only": {"PASS-006"},
        "header-allowlist": {"FIELDS-002", "PROTO-001", "PROTO-005"},
        "drop-mixed-case-headers": {"PROTO-012"},
        "errors-as-500": {"ERR-001", "PROTO-007"},
        "stream-refusal-as-200": {"ERR-006"},
        "truncate-tool-json": {"STREAM-002", "LIVE-001"},
        "drop-signature": {"STREAM-003", "THINK-001", "LIVE-001"},
        "blank-redacted-thinking": {"STREAM-004", "THINK-001", "LIVE-001"},
        "drop-signature-only-thinking": {"THINK-001", "THINK-002"},
        "one-block-index": {"STREAM-005"},
        "drop-cache-usage": {"STREAM-006", "USAGE-001"},
        "drop-server-blocks": {"FEAT-002", "FEAT-005", "LIVE-001"},
        "strip-citations": {"FEAT-008", "LIVE-001"},
        "strip-cache-control": {"FEAT-001"},
        "flatten-media": {"FEAT-003"},
        "prepend-system": {"PROTO-014"},
        "openai-model-list": {"DISC-001"},
        "redirect-models": {"DISC-003"},
        "models-first-page": {"DISC-002", "DISC-005"},
        "slow-models": {"DISC-004"},
        "list-unserved-ids": {"DISC-006"},
        "health-needs-key": {"HEALTH-002"},
        "rename-model": {"ROUTE-005", "ROUTE-009"},
        "query-routes": {"PROTO-002", "PROTO-016"},
        "refuse-custom-headers": {"PROTO-015"},
        "substitute-model": {"ROUTE-009"},
        "probe-500": {"DISC-008"},
        "ping-first": {"STREAM-013"},
        "invent-count": {"COUNT-002"},
        "slow-probe": {"PROTO-003"},
    }.items()
}

# Requirements no fault of the reference gateway can reach, and why (the matrix lists them with the
# reason). All but these have no check that runs on the reference gateway; these run there and judge
# only the config.
JUDGES_THE_CONFIG = frozenset({"CTX1M-003", "CONFIG-001"})
_OPENAI = (
    "the reference gateway forwards Anthropic Messages only; only a gateway that translates to "
    "OpenAI can break it"
)
_BEDROCK = (
    "the reference gateway does not translate to Bedrock; only a gateway that does can break it"
)
_VERTEX = (
    "the reference gateway does not translate to Vertex; only a gateway that does can break it"
)
_CLI = (
    "only the real Claude Code CLI exercises it (an e2e check); the kill matrix leaves the CLI out "
    "for cost"
)
UNREACHABLE: dict[str, str] = {
    **dict.fromkeys(("PIPE-003", "PIPE-004", "STREAM-009"), _OPENAI),
    **dict.fromkeys(
        ("ROUTE-006", "BEDROCK-001", "BEDROCK-004", "BEDROCK-002", "COUNT-004"), _BEDROCK
    ),
    **dict.fromkeys(("ROUTE-007", "VERTEX-001", "VERTEX-002"), _VERTEX),
    "CTX1M-005": "the reference gateway translates to neither Bedrock nor Vertex, where the beta "
    "travels in the body or a header of the provider's own request",
    **dict.fromkeys(
        ("DISC-007", "CTX1M-004", "FIELDS-003", "E2E-001", "E2E-002", "E2E-003", "E2E-004"), _CLI
    ),
    "KEYS-005": "DB-backed virtual keys (/key/generate, PostgreSQL) are LiteLLM's admin API; the "
    "reference has none",
    "MODELS-002": "the quickstart's env-key config is LiteLLM's model_list semantics (model names "
    "read from the environment), which the reference does not implement",
    "BEDROCK-003": "the /bedrock pass-through is LiteLLM's route, with its SigV4 re-signing; the "
    "reference has only the /anthropic pass-through",
    "VERTEX-003": "the /vertex_ai pass-through is LiteLLM's route, with its token exchange; the "
    "reference has only the /anthropic pass-through",
    "VERTEX-004": "the /vertex_ai pass-through is LiteLLM's route; the reference has only the "
    "/anthropic one",
    "VERTEX-005": "it checks LiteLLM's own installation (pip install 'litellm[proxy]')",
    "PASS-009": "GET /anthropic/v1/models through the pass-through needs LiteLLM's pass-through of "
    "any method",
    "LOAD-001": "its checks run LiteLLM's deployed config (pools of every route) and read the "
    "proxy's process; the reference gateway is a thread of the test process",
    "LOAD-002": "its checks mint LiteLLM virtual keys per stream; the reference has only the "
    "config's keys",
    "FUZZ-001": "its checks compare LiteLLM against its own known answers for generated requests",
    "COST-001": "x-litellm-response-cost is LiteLLM's header; the reference books no cost",
    "COST-002": "spend is LiteLLM's database record; the reference books no cost",
    "AUTH-009": "the quickstart's master_key placement (under litellm_settings) is LiteLLM's "
    "config semantics",
    "AUTH-010": "the quickstart's example key is LiteLLM's master-key check",
    "AUTH-011": "forward_llm_provider_auth_headers (BYOK) is LiteLLM's setting; the reference "
    "gateway always sends the config's own provider key",
    **dict.fromkeys(
        JUDGES_THE_CONFIG,
        "it judges the config under test, not the gateway: no fault of a gateway can break it",
    ),
}


# The should and info requirements that run on the reference gateway and no fault breaks yet (issue
# 25 left them); a requirement added after them needs a fault or a reason.
AWAITING_A_FAULT: frozenset[str] = frozenset()


def kill_score(levels: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Per level: requirements, those a fault is declared (and in CI proven) to kill, those named
    unreachable."""
    killed = frozenset().union(*KILLS.values())
    out: dict[str, dict[str, int]] = {}
    for req, level in levels.items():
        row = out.setdefault(level, {"requirements": 0, "killed": 0, "unreachable": 0})
        row["requirements"] += 1
        row["killed"] += req in killed
        row["unreachable"] += req in UNREACHABLE and req not in killed
    return out


def kill_problems(levels: Mapping[str, str]) -> list[str]:
    """What ``python -m harness catalogue --check`` refuses: a requirement no fault kills and none
    names unreachable (unless it is one of the should and info ones still waiting for theirs), and
    names that are no requirement."""
    killed = frozenset().union(*KILLS.values())
    problems = [
        f"{req} ({level}): no fault of the reference gateway kills it, "
        "and UNREACHABLE does not say why"
        for req, level in levels.items()
        if req not in killed and req not in UNREACHABLE and req not in AWAITING_A_FAULT
    ]
    problems += [
        f"{req}: named in KILLS, UNREACHABLE or AWAITING_A_FAULT, but not in the catalogue"
        for req in sorted((killed | set(UNREACHABLE) | AWAITING_A_FAULT) - set(levels))
    ]
    problems += [
        f"{req}: must-level requirements cannot wait for a fault"
        for req in sorted(AWAITING_A_FAULT)
        if levels.get(req) == "must"
    ]
    return problems


# What the reference gateway can switch on: its faults and its benign variations.
SWITCHABLE: frozenset[str] = frozenset(FAULTS) | NAMES
