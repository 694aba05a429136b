"""Live recordings on the routes: which answer each route is served, and what an answer says
whatever its framing (issue 40).

A *case* is one live (or derived) answer on one route. The content a client must see is read from
the provider's side with the same views as the client's (``support.answers``), extended here to
the framings only live recordings bring to every route: Bedrock Converse (JSON and event stream)
and InvokeModelWithResponseStream's chunk frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from harness.fakes import Live, RecordedRequest
from harness.protocol.client import Exchange
from harness.protocol.validators import SSEEvent, bedrock, check_stream

from .answers import provider_view
from .routes import BY_NAME, Route, as_sse, bedrock_chunks

PA, VA = "live/pydantic-ai/", "live/vercel-ai/"
ANTHROPIC_STREAMS = (
    "anthropic-thinking-part-stream",
    "anthropic-redacted-thinking-stream",
    "anthropic-web-search-stream",
)
ANTHROPIC_JSON = (("anthropic-thinking-part", 0), ("anthropic-tool-with-thinking", 0))
ANTHROPIC_CACHE = (("anthropic-cache-write-and-read", 0), ("anthropic-cache-write-and-read", 1))
INVOKE_CACHE = (
    ("bedrock-invoke-cache-write-and-read", 0),
    ("bedrock-invoke-cache-write-and-read", 1),
)
CONVERSE_CACHE = (
    ("bedrock-converse-cache-write-and-read", 0),
    ("bedrock-converse-cache-write-and-read", 1),
)


@dataclass(frozen=True)
class Case:
    route: Route
    item: Live
    stream: bool

    @property
    def id(self) -> str:
        short = self.item.name.removeprefix("live/")
        n = f"#{self.item.interaction}" if self.item.interaction else ""
        how = f"~{self.item.derive}" if self.item.derive else ""
        return f"{self.route.name}:{short}{n}{how}"


def _anthropic_native(route: str, derive: str = "") -> list[Case]:
    r = BY_NAME[route]
    streams = [Live(PA + n, derive=derive) for n in ANTHROPIC_STREAMS]
    streams.append(Live(VA + "anthropic-json-tool-stream", derive=derive))
    json_derive = "" if derive == "invoke-stream" else derive
    bodies = [Live(PA + n, i, derive=json_derive) for n, i in ANTHROPIC_JSON + ANTHROPIC_CACHE]
    if route.startswith("bedrock"):
        bodies = [Live(PA + n, i) for n, i in INVOKE_CACHE]
    return [Case(r, i, True) for i in streams] + [Case(r, i, False) for i in bodies]


def content_cases() -> list[Case]:
    """Every route, each with the live answers of its shape (or derived ones, where none exist)."""
    converse = BY_NAME["bedrock-converse"]
    return [
        *_anthropic_native("anthropic"),
        *_anthropic_native("anthropic-passthrough"),
        *_anthropic_native("vertex", "vertex"),
        *_anthropic_native("vertex-passthrough", "vertex"),
        *_anthropic_native("bedrock-invoke", "invoke-stream"),
        *_anthropic_native("bedrock-passthrough", "invoke-stream"),
        Case(converse, Live(PA + "bedrock-converse-thinking-stream"), True),
        Case(converse, Live(PA + "bedrock-converse-stream"), True),
        Case(converse, Live(PA + "bedrock-converse-tool-with-thinking"), False),
        *(Case(converse, Live(PA + n, i), False) for n, i in CONVERSE_CACHE),
        *(
            Case(BY_NAME["openai-chat"], Live(PA + "openai-chat-stream-tool-call", i), True)
            for i in (0, 1)
        ),
        Case(BY_NAME["openai-chat"], Live(VA + "openai-chat-text-stream"), True),
        *(
            Case(
                BY_NAME["openai-responses"], Live(PA + "openai-responses-stream-tool-call", i), True
            )
            for i in (0, 1)
        ),
        Case(BY_NAME["openai-responses"], Live(PA + "openai-responses-stream-usage"), True),
    ]


def usage_cases() -> list[Case]:
    """The answers that carry cache reads and writes, on each Anthropic-shaped route."""
    out = []
    for name in ("anthropic", "anthropic-passthrough", "vertex", "vertex-passthrough"):
        derive = "vertex" if name.startswith("vertex") else ""
        out += [
            Case(BY_NAME[name], Live(PA + n, i, derive=derive), False) for n, i in ANTHROPIC_CACHE
        ]
    for name in ("bedrock-invoke", "bedrock-passthrough"):
        out += [Case(BY_NAME[name], Live(PA + n, i), False) for n, i in INVOKE_CACHE]
    out += [Case(BY_NAME["bedrock-converse"], Live(PA + n, i), False) for n, i in CONVERSE_CACHE]
    return out


def refusal_cases() -> list[Case]:
    return [
        Case(BY_NAME["anthropic"], Live(PA + "anthropic-error-400"), False),
        Case(BY_NAME["anthropic-passthrough"], Live(PA + "anthropic-error-400"), False),
        Case(BY_NAME["vertex"], Live(PA + "anthropic-error-400", derive="vertex"), False),
        Case(BY_NAME["bedrock-converse"], Live(PA + "bedrock-converse-stream-error-400"), True),
        Case(BY_NAME["openai-responses"], Live(PA + "openai-responses-error-400"), True),
    ]


def params(cases: list[Case]) -> list[Any]:
    out = []
    for case in cases:
        r = case.route
        marks = [pytest.mark.gateway(r.gateway), *(pytest.mark.needs(n) for n in r.needs), *r.marks]
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


# -- views ----------------------------------------------------------------------------------------


def _converse_block(block: dict[str, Any]) -> tuple[Any, ...]:
    if "text" in block:
        return ("text", block["text"])
    if "toolUse" in block:
        use = block["toolUse"]
        return ("tool_use", use.get("name"), use.get("input"))
    reasoning = block.get("reasoningContent") or {}
    if "redactedContent" in reasoning:
        return ("redacted_thinking", reasoning["redactedContent"])
    text = reasoning.get("reasoningText") or {}
    return ("thinking", text.get("text", ""), text.get("signature", ""))


def converse_view(req: RecordedRequest) -> dict[str, Any]:
    if not req.path.endswith("/converse-stream"):
        body = json.loads(req.response_body)
        content = ((body.get("output") or {}).get("message") or {}).get("content") or []
        return {
            "blocks": [_converse_block(b) for b in content],
            "stop_reason": body.get("stopReason"),
        }
    blocks: dict[int, dict[str, Any]] = {}
    stop = None
    for headers, payload in bedrock.frames(req.response_body):
        data, kind = json.loads(payload), headers.get(":event-type")
        if kind == "contentBlockStart":
            blocks.setdefault(data["contentBlockIndex"], {}).update(data["start"])
        elif kind == "contentBlockDelta":
            _merge(blocks.setdefault(data["contentBlockIndex"], {}), data["delta"])
        elif kind == "messageStop":
            stop = data.get("stopReason")
    return {"blocks": [_converse_block(blocks[i]) for i in sorted(blocks)], "stop_reason": stop}


def _merge(block: dict[str, Any], delta: dict[str, Any]) -> None:
    if "text" in delta:
        block["text"] = block.get("text", "") + delta["text"]
    if "toolUse" in delta:
        use = block.setdefault("toolUse", {})
        use["raw"] = use.get("raw", "") + delta["toolUse"].get("input", "")
        use["input"] = json.loads(use["raw"] or "{}") if _complete(use["raw"]) else None
    reasoning = delta.get("reasoningContent")
    if reasoning:
        into = block.setdefault("reasoningContent", {})
        if "redactedContent" in reasoning:
            into["redactedContent"] = into.get("redactedContent", "") + reasoning["redactedContent"]
        text = into.setdefault("reasoningText", {})
        text["text"] = text.get("text", "") + reasoning.get("text", "")
        text["signature"] = text.get("signature", "") + reasoning.get("signature", "")


def _complete(raw: str) -> bool:
    try:
        json.loads(raw or "{}")
    except ValueError:
        return False
    return True


def translated_said(req: RecordedRequest) -> dict[str, Any]:
    """What a provider on a translated route (Converse, OpenAI) answered; the Anthropic-shaped
    routes are read block by block (:func:`native_provider`)."""
    if req.path.endswith(("/converse", "/converse-stream")):
        return converse_view(req)
    return provider_view(req)


def gist(view: dict[str, Any]) -> dict[str, Any]:
    """What a translated answer keeps: its text, tool calls, thinking with its signature and
    redacted thinking; block boundaries and stop reasons are the translation's to map."""
    kinds: dict[str, list[Any]] = {"tools": [], "thinking": [], "redacted": []}
    for b in view["blocks"]:
        if b[0] == "tool_use":
            kinds["tools"].append(list(b[1:]))
        elif b[0] == "thinking" and (b[1] or b[2]):
            kinds["thinking"].append(list(b[1:]))
        elif b[0] == "redacted_thinking":
            kinds["redacted"].append(b[1])
    text = "".join(b[1] for b in view["blocks"] if b[0] == "text")
    return {"text": text, **kinds}


def usage_of(req: RecordedRequest) -> dict[str, Any]:
    """The provider's usage in Anthropic's names (Converse's mapped as LiteLLM documents)."""
    body = json.loads(req.response_body)
    if req.path.endswith("/converse"):
        u = body.get("usage") or {}
        return {
            "input_tokens": u.get("inputTokens"),
            "output_tokens": u.get("outputTokens"),
            "cache_read_input_tokens": u.get("cacheReadInputTokens", 0),
            "cache_creation_input_tokens": u.get("cacheWriteInputTokens", 0),
        }
    u = body.get("usage") or {}
    keys = (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    )
    return {k: u.get(k) for k in keys}


# -- Anthropic-shaped routes: every block's content, server tools and citations included ----------


def _full(block: dict[str, Any]) -> tuple[Any, ...]:
    """A block as the client reads it; ids left out (a gateway may mint its own consistently)."""
    kind = str(block.get("type"))
    if kind == "text":
        return (kind, block.get("text", ""), block.get("citations") or [])
    if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        return (kind, block.get("name"), block.get("input"))
    if kind.endswith("_tool_result"):
        return (kind, json.dumps(block.get("content"), sort_keys=True))
    if kind == "thinking":
        return (kind, block.get("thinking", ""), block.get("signature", ""))
    if kind == "redacted_thinking":
        return (kind, block.get("data"))
    return (kind,)


def _from_stream(events: str | list[SSEEvent]) -> dict[str, Any]:
    result = check_stream(events)
    return {"blocks": [_full(b.final()) for b in result.blocks], "stop_reason": result.stop_reason}


def _from_message(message: dict[str, Any]) -> dict[str, Any]:
    blocks = [_full(b) for b in message.get("content") or []]
    return {"blocks": blocks, "stop_reason": message.get("stop_reason")}


def native_provider(req: RecordedRequest) -> dict[str, Any]:
    """Every block an Anthropic-shaped provider answer carries."""
    if req.path.endswith("/invoke-with-response-stream"):
        return _from_stream(as_sse(bedrock.invoke_stream_events(req.response_body)))
    text = req.response_body.decode("utf-8", "replace")
    if text.startswith(("event:", "data:")):
        return _from_stream(text)
    return _from_message(json.loads(text))


def native_client(route: Route, ex: Exchange) -> dict[str, Any]:
    """Every block the client got, whatever the route's framing."""
    if ex.events is not None:
        return _from_stream(ex.events)
    if route.name == "bedrock-passthrough" and ex.content[:1] != b"{":
        events, _ = bedrock_chunks(ex.content)
        return _from_stream(as_sse(events))
    return _from_message(json.loads(ex.content))
