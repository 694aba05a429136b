"""The fake OpenAI API: chat completions and Responses, each as JSON and as a stream.

LiteLLM translates Anthropic Messages to one of these (Responses from 1.108 on,
chat completions before), so a script's thinking blocks have no rendering here:
they are dropped, as OpenAI models do not return Anthropic-style thinking.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, ClassVar

from harness.fakes.journal import RecordedRequest, WireResponse
from harness.fakes.script import (
    HttpError,
    ModelList,
    RawJSON,
    RawSSE,
    Reply,
    Scripted,
    Text,
    TokenCount,
    ToolUse,
)
from harness.fakes.server import FakeProvider
from harness.fakes.wire import SSE_HEADERS, sse_chunks

FINISH_REASON = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
CREATED = 1_760_000_000


def _texts(reply: Reply) -> list[Text]:
    return [b for b in reply.blocks if isinstance(b, Text)]


def _tools(reply: Reply) -> list[ToolUse]:
    return [b for b in reply.blocks if isinstance(b, ToolUse)]


def chat_usage(reply: Reply) -> dict[str, Any]:
    u = reply.usage
    prompt = u.input_tokens + u.cache_read_input_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cache_read_input_tokens},
    }


def _tool_call(i: int, tool: ToolUse) -> dict[str, Any]:
    return {
        "index": i,
        "id": tool.id,
        "type": "function",
        "function": {"name": tool.name, "arguments": json.dumps(tool.input)},
    }


def chat_json(reply: Reply, model: str) -> dict[str, Any]:
    text = "".join(t.text for t in _texts(reply)) or None
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tools := _tools(reply):
        message["tool_calls"] = [_tool_call(i, t) for i, t in enumerate(tools)]
    choice = {
        "index": 0,
        "message": message,
        "finish_reason": FINISH_REASON.get(reply.stop_reason, "stop"),
    }
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": CREATED,
        "model": reply.model or model,
        "choices": [choice],
        "usage": chat_usage(reply),
    }


def chat_events(reply: Reply, model: str) -> list[tuple[str, Any]]:
    base = {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": reply.model or model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[str, Any]:
        return ("", {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": p}) for t in _texts(reply) for p in t.pieces()]
    for i, tool in enumerate(_tools(reply)):
        head = {
            "index": i,
            "id": tool.id,
            "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }
        events.append(chunk({"tool_calls": [head]}))
        events += [
            chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]})
            for p in tool.json_pieces()
        ]
    events.append(chunk({}, FINISH_REASON.get(reply.stop_reason, "stop")))
    events.append(("", {**base, "choices": [], "usage": chat_usage(reply)}))
    events.append(("", "[DONE]"))
    return events


def responses_usage(reply: Reply) -> dict[str, Any]:
    u = reply.usage
    prompt = u.input_tokens + u.cache_read_input_tokens
    return {
        "input_tokens": prompt,
        "output_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        # The SDK's Response type (openai 3.x) requires cache_write_tokens beside cached_tokens.
        "input_tokens_details": {
            "cached_tokens": u.cache_read_input_tokens,
            "cache_write_tokens": u.cache_creation_input_tokens,
        },
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def _output_items(reply: Reply) -> list[tuple[dict[str, Any], ToolUse | None]]:
    """Each Responses output item, with the ToolUse it was made from (None for messages)."""
    items: list[tuple[dict[str, Any], ToolUse | None]] = []
    for i, text in enumerate(_texts(reply)):
        items.append(
            (
                {
                    "type": "message",
                    "id": f"msg_fake{i}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text.text, "annotations": []}],
                },
                None,
            )
        )
    for i, tool in enumerate(_tools(reply)):
        items.append(
            (
                {
                    "type": "function_call",
                    "id": f"fc_fake{i}",
                    "call_id": tool.id,
                    "name": tool.name,
                    "arguments": json.dumps(tool.input),
                    "status": "completed",
                },
                tool,
            )
        )
    return items


def responses_json(reply: Reply, model: str, status: str = "completed") -> dict[str, Any]:
    incomplete = reply.stop_reason == "max_tokens"
    return {
        "id": "resp_fake0001",
        "object": "response",
        "created_at": CREATED,
        "model": reply.model or model,
        "status": ("incomplete" if incomplete else "completed")
        if status == "completed"
        else status,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "output": [item for item, _ in _output_items(reply)] if status == "completed" else [],
        "usage": responses_usage(reply) if status == "completed" else None,
        "error": None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def _item_events(index: int, item: dict[str, Any], tool: ToolUse | None) -> list[dict[str, Any]]:
    if tool is None:
        text = item["content"][0]["text"]
        part = {"type": "output_text", "text": "", "annotations": []}
        ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
        pieces = Text(text).pieces()
        return [
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "content": [], "status": "in_progress"},
            },
            {"type": "response.content_part.added", **ids, "part": part},
            *({"type": "response.output_text.delta", **ids, "delta": p} for p in pieces),
            {"type": "response.output_text.done", **ids, "text": text},
            {"type": "response.content_part.done", **ids, "part": {**part, "text": text}},
            {"type": "response.output_item.done", "output_index": index, "item": item},
        ]
    ids = {"item_id": item["id"], "output_index": index}
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "arguments": "", "status": "in_progress"},
        },
        *(
            {"type": "response.function_call_arguments.delta", **ids, "delta": p}
            for p in tool.json_pieces()
        ),
        {"type": "response.function_call_arguments.done", **ids, "arguments": item["arguments"]},
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]


def responses_events(reply: Reply, model: str) -> list[tuple[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": responses_json(reply, model, "in_progress")},
        {"type": "response.in_progress", "response": responses_json(reply, model, "in_progress")},
    ]
    for index, (item, tool) in enumerate(_output_items(reply)):
        events += _item_events(index, item, tool)
    final = responses_json(reply, model)
    done_type = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    events.append({"type": done_type, "response": final})
    return [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(events)]


def stream_error_event(reply: Reply, chat: bool, sequence: int) -> tuple[str, Any]:
    """An error after the stream started, as OpenAI sends one.

    Responses: the documented ``error`` event
    (platform.openai.com/docs/api-reference/responses-streaming/error).
    Chat completions document none; the API sends a bare ``data: {"error": {...}}`` chunk
    (openai-python's ``Stream.__stream__`` raises ``APIError`` on exactly that shape).
    """
    err = reply.stream_error
    assert err is not None
    if chat:
        return (
            "",
            {"error": {"message": err.message, "type": err.type, "param": None, "code": err.type}},
        )
    return (
        "error",
        {
            "type": "error",
            "code": err.type,
            "message": err.message,
            "param": None,
            "sequence_number": sequence,
        },
    )


def error_json(error: HttpError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.message,
            "type": error.type,
            "param": None,
            "code": error.type,
            **dict(error.fields),
        }
    }


class FakeOpenAI(FakeProvider):
    name = "openai"
    routes: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "/v1/chat/completions"): "chat",
        ("POST", "/v1/responses"): "responses",
        ("GET", "/v1/models"): "models",
        ("POST", "/v1/responses/input_tokens"): "input_tokens",
    }
    # LiteLLM 1.108 lists the models before its first Responses call.
    standing: ClassVar[dict[str, Scripted]] = {
        "models": ModelList(("gpt-4o", "gpt-4o-mini", "o3-pro", "codex-mini"))
    }
    _generations = itertools.count()  # names the groups of alternatives script_generation makes

    def script_generation(
        self, item: Scripted, times: int | None = 1, optional: bool = False
    ) -> None:
        """Script ``item`` on both generation routes: which one LiteLLM calls depends on its version
        (one of the two must be asked for, unless ``optional``)."""
        group: bool | str = True if optional else f"generation {next(self._generations)}"
        self.script("chat", item, times, optional=group)
        self.script("responses", item, times, optional=group)

    def render(self, request: RecordedRequest, item: Scripted) -> WireResponse:
        body = request.body if isinstance(request.body, dict) else {}
        model = str(body.get("model", "unknown-model"))
        if isinstance(item, HttpError):
            return WireResponse.json(error_json(item), item.status, **dict(item.headers))
        if isinstance(item, RawJSON):
            return WireResponse.json(item.body, item.status)
        if isinstance(item, TokenCount):
            return WireResponse.json(
                {"object": "response.input_tokens", "input_tokens": item.input_tokens}
            )
        if isinstance(item, ModelList):
            created = [
                {"id": i, "object": "model", "created": CREATED, "owned_by": "fake"}
                for i in item.ids
            ]
            return WireResponse.json({"object": "list", "data": created})
        if isinstance(item, RawSSE):
            raise TypeError("RawSSE is an Anthropic transcript; script an OpenAI Reply instead")
        assert isinstance(item, Reply), f"fake openai cannot render {type(item).__name__}"
        chat = request.route == "chat"
        if body.get("stream"):
            events = chat_events(item, model) if chat else responses_events(item, model)
            if item.stream_error is not None:
                cut = item.stream_error.after_events
                events = [*events[:cut], stream_error_event(item, chat, cut)]
            return WireResponse(200, dict(SSE_HEADERS), chunks=sse_chunks(events, item.delay))
        return WireResponse.json(chat_json(item, model) if chat else responses_json(item, model))
