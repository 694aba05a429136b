"""Hypothesis strategies for Claude-Code-shaped Messages requests: valid ones, and the mistakes a
client makes.

A ``Case`` is what goes on the wire (the body's bytes, the headers) plus what it is: valid,
or the kind of mistake. The fuzz checks (``suites/test_fuzz.py``) send each through the
gateway and hold every answer to the invariants: no 5xx for a client mistake, every 4xx
in Anthropic's envelope, no key echoed, no gateway key at the provider, a valid body intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from harness.fakes.journal import RecordedRequest, secret_places
from harness.protocol.client import CLAUDE_CODE_BETAS
from harness.protocol.validators import validate_error

BASE_HEADERS = [
    ("anthropic-version", "2023-06-01"),
    ("content-type", "application/json"),
    ("anthropic-beta", ",".join(CLAUDE_CODE_BETAS)),
    ("user-agent", "claude-cli/2.1.332 (external, cli)"),
]


def _with(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k != name] + [(name, value)]


@dataclass
class Case:
    kind: str  # "valid", or the mistake: "wrong-type", "missing-field", "invalid-json", ...
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)  # a list: a header may come twice
    sent: dict[str, Any] | None = None  # the body as an object, when it is one

    @property
    def valid(self) -> bool:
        return self.kind == "valid"

    # Hypothesis copies and pretty-prints a found example; a body nested 1,000 deep would exhaust
    # the recursion limit either way, and a case is never mutated once drawn.
    def __deepcopy__(self, memo: dict[int, Any]) -> Case:
        return self

    def __repr__(self) -> str:
        return f"Case({self.kind!r}, {len(self.body)} bytes)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def show(self) -> str:
        text = self.body[:600].decode("utf-8", "replace")
        return f"{self.kind}: headers {self.headers}\nbody ({len(self.body)} bytes): {text}"


# Anthropic refuses a text block that is empty or only whitespace, so valid text has something in
# it.
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80
).filter(lambda t: bool(t.strip()))
_odd_text = st.text(
    st.characters(exclude_categories=[]), min_size=1, max_size=40
)  # includes lone surrogates
_key = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_key, inner, max_size=3),
    max_leaves=8,
)
_block = st.fixed_dictionaries({"type": st.just("text"), "text": _text})
_user = st.fixed_dictionaries(
    {"role": st.just("user"), "content": _text | st.lists(_block, min_size=1, max_size=3)}
)
_tool = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True),
        "description": _text,
        "input_schema": st.just({"type": "object", "properties": {"path": {"type": "string"}}}),
    }
)


@st.composite
def valid_bodies(draw: st.DrawFn, model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": draw(st.integers(1, 64_000)),
        "messages": [draw(_user)],
    }
    if draw(st.booleans()):
        body["system"] = draw(_text | st.lists(_block, min_size=1, max_size=2))
    if draw(st.booleans()):
        body["tools"] = draw(
            st.lists(_tool, min_size=1, max_size=3, unique_by=lambda t: str(t["name"]))
        )
    if draw(st.booleans()):
        body["temperature"] = draw(st.floats(0, 1, allow_nan=False).map(lambda f: round(f, 3)))
    if draw(st.booleans()):
        body["stop_sequences"] = draw(st.lists(_text, min_size=1, max_size=3))
    return body


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=True).encode()


@st.composite
def valid_cases(draw: st.DrawFn, model: str) -> Case:
    body = draw(valid_bodies(model))
    return Case("valid", _encode(body), list(BASE_HEADERS), body)


_WRONG = {
    "max_tokens": st.text(max_size=5)
    | st.floats(allow_nan=False)
    | st.integers(max_value=0)
    | st.none(),
    "messages": st.dictionaries(_key, _json, max_size=2)
    | _text
    | st.none()
    | st.just([])
    | st.lists(
        st.fixed_dictionaries({"role": st.sampled_from(["robot", "", "USER"]), "content": _json}),
        min_size=1,
        max_size=2,
    ),
    "model": st.integers() | st.none() | st.lists(_text, max_size=2),
    "system": st.integers() | st.lists(st.integers(), min_size=1, max_size=2),
    "tools": _text | st.lists(st.dictionaries(_key, _json, max_size=2), min_size=1, max_size=2),
    "temperature": _text | st.floats(min_value=2.5, max_value=1e6),
}


@st.composite
def body_mistakes(draw: st.DrawFn, model: str) -> Case:
    """Wrong types, missing fields and unknown fields on an otherwise valid body."""
    body = draw(valid_bodies(model))
    kind = draw(st.sampled_from(["wrong-type", "missing-field", "unknown-field"]))
    if kind == "wrong-type":
        name = draw(st.sampled_from(sorted(_WRONG)))
        body[name] = draw(_WRONG[name])
    elif kind == "missing-field":
        for name in draw(
            st.lists(st.sampled_from(["model", "messages", "max_tokens"]), min_size=1, unique=True)
        ):
            body.pop(name, None)
    else:
        extra = draw(
            st.dictionaries(_key.filter(lambda k: k not in body), _json, min_size=1, max_size=3)
        )
        body.update({f"x_{k}": v for k, v in extra.items()})
    return Case(kind, _encode(body), list(BASE_HEADERS), body)


def _nest(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"n": value}
    return value


@st.composite
def size_and_encoding_mistakes(draw: st.DrawFn, model: str) -> Case:
    """Invalid JSON, huge and deep bodies, odd unicode."""
    kind = draw(st.sampled_from(["invalid-json", "huge", "deep", "odd-unicode", "not-an-object"]))
    body: Any = draw(valid_bodies(model))
    if kind == "invalid-json":
        raw = _encode(body)
        cut = draw(st.integers(0, max(len(raw) - 1, 0)))
        return Case(
            kind,
            draw(st.sampled_from([raw[:cut], raw + b"}", b"{'single': 'quotes'}", b"\xff\xfe{"])),
            list(BASE_HEADERS),
        )
    if kind == "huge":
        body["messages"][0]["content"] = "x" * draw(st.integers(100_000, 400_000))
    elif kind == "deep":
        body["metadata"] = _nest(draw(st.integers(100, 1_000)))
    elif kind == "odd-unicode":
        body["messages"][0]["content"] = draw(_odd_text)
    else:
        body = draw(st.lists(_json, max_size=3) | _text | st.integers())
    raw = _encode(body) if kind != "deep" else json.dumps(body).encode()
    return Case(kind, raw, list(BASE_HEADERS), body if isinstance(body, dict) else None)


@st.composite
def header_mistakes(draw: st.DrawFn, model: str) -> Case:
    """Bad, duplicated and unknown headers; wrong content types; unknown betas."""
    body = draw(valid_bodies(model))
    headers = list(BASE_HEADERS)
    kind = draw(
        st.sampled_from(
            ["bad-version", "duplicate-header", "wrong-content-type", "unknown-beta", "junk-header"]
        )
    )
    if kind == "bad-version":
        value = draw(st.sampled_from(["", "1999-01-01", "latest", "2023-06-01, 2023-01-01"]))
        headers = _with(headers, "anthropic-version", value)
    elif kind == "duplicate-header":
        name = draw(st.sampled_from(["anthropic-version", "anthropic-beta", "content-type"]))
        headers.append(
            (name, draw(st.sampled_from(["2023-01-01", "made-up-2099-01-01", "text/plain"])))
        )
    elif kind == "wrong-content-type":
        value = draw(
            st.sampled_from(
                ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
            )
        )
        headers = _with(headers, "content-type", value)
    elif kind == "unknown-beta":
        made_up = draw(st.from_regex(r"[a-z]{3,10}-[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
        headers = _with(
            headers, "anthropic-beta", f"{dict(BASE_HEADERS)['anthropic-beta']},{made_up}"
        )
    else:
        name = draw(st.from_regex(r"x-[a-z]{1,12}", fullmatch=True))
        headers.append((name, draw(st.from_regex(r"[!-~]{1,60}", fullmatch=True))))
    return Case(kind, _encode(body), headers, body)


INTACT = ("messages", "max_tokens", "system", "tools", "temperature", "stop_sequences")


def broken_invariants(
    case: Case,
    response: httpx.Response,
    received: list[RecordedRequest],
    gateway_key: str,
    upstream_key: str,
) -> list[tuple[str, str]]:
    """The invariants this answer breaks, each with what shows it; the names are the fuzz check's
    fingerprint."""
    out: list[tuple[str, str]] = []
    if any(
        k and (k in response.text or k in str(response.headers))
        for k in (gateway_key, upstream_key)
    ):
        out.append(("a key echoed in a response", ""))
    if secret_places(received, gateway_key):
        out.append(("the gateway key reached the provider", ""))
    if case.valid:
        return out + _valid_broken(case, response, [r for r in received if r.route == "messages"])
    if response.status_code >= 500:
        out.append((f"a 5xx for a client mistake ({case.kind})", ""))
    elif response.status_code >= 400:
        try:
            validate_error(response.json())
        except (ValueError, AssertionError) as exc:
            out.append((f"a 4xx outside Anthropic's envelope ({case.kind})", str(exc)[:300]))
    return out


def _valid_broken(
    case: Case, response: httpx.Response, got: list[RecordedRequest]
) -> list[tuple[str, str]]:
    sent = case.sent or {}
    if response.status_code != 200 or not got:
        return [("a valid request refused", "")]
    changed = [k for k in INTACT if k in sent and got[-1].body.get(k) != sent[k]]
    if changed:
        return [
            (
                "a valid body changed on the way",
                "provider got " + json.dumps({k: got[-1].body.get(k) for k in changed})[:600],
            )
        ]
    return []
