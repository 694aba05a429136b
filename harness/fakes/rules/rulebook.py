"""The code of :mod:`harness.fakes.rules`; what it is for: the package's docstring."""

from __future__ import annotations

import copy
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from harness import yamlio
from harness.fakes.rules.kinds import CONDITIONS, KINDS, Call, holds
from harness.fakes.script import HttpError

DIRECTORY = Path(__file__).resolve().parent
FAMILIES = ("anthropic", "bedrock-invoke", "bedrock-converse", "vertex", "openai")


@dataclass(frozen=True)
class Rule:
    id: str
    about: str
    routes: tuple[str, ...]
    kind: str
    params: dict[str, Any]
    when: dict[str, Any]
    status: int
    type: str
    message: str
    source: str
    test: dict[str, Any] | None
    wording: str = (
        "confirmed"  # "unconfirmed": the behaviour is documented, no real answer's text was found
    )
    extra: dict[str, Any] = field(
        default_factory=dict
    )  # further fields of the error body (OpenAI's param, code)

    def violation(self, call: Call) -> dict[str, Any] | None:
        if call.route not in self.routes or not holds(self.when, call):
            return None
        return KINDS[self.kind](self.params, call)

    def refusal(self, found: dict[str, Any], labels: dict[str, str] | None = None) -> HttpError:
        values = defaultdict(str, {**(labels or {}), **{k: _quoted(v) for k, v in found.items()}})
        values["parent"] = str(found.get("path", "")).rpartition(".")[0]
        # The path's indices, for wordings that name them in the provider's own notation
        # (tools[0].function.name).
        indices = [part for part in str(found.get("path", "")).split(".") if part.isdigit()]
        values.update({f"idx{i}": n for i, n in enumerate(indices)})
        extra = tuple(
            (k, v.format_map(values) if isinstance(v, str) else v) for k, v in self.extra.items()
        )
        return HttpError(self.status, self.type, self.message.format_map(values), fields=extra)

    @property
    def cite(self) -> str:
        return f"provider rule {self.id} ({self.source})"


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    fake: str
    routes: tuple[str, ...]
    beta_source: (
        str  # "header", "body", "converse" or "none": where this provider reads anthropic betas
    )
    model_in: str  # "body" or "path"
    example: dict[str, Any]
    rules: tuple[Rule, ...] = field(default=())
    inherited: frozenset[str] = frozenset()  # ids of rules taken from another family

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _quoted(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _rule(routes: tuple[str, ...], raw: dict[str, Any]) -> Rule:
    check = dict(raw["check"])
    kind = check.pop("kind")
    if kind not in KINDS:
        raise ValueError(f"rule {raw.get('id')}: unknown kind {kind!r}; known: {sorted(KINDS)}")
    unknown = set(raw.get("when") or {}) - set(CONDITIONS)
    if unknown:
        raise ValueError(
            f"rule {raw.get('id')}: unknown condition(s) {sorted(unknown)}; "
            f"known: {sorted(CONDITIONS)}"
        )
    refusal = raw["refusal"]
    return Rule(
        id=raw["id"],
        about=raw["about"],
        routes=tuple(raw.get("routes") or routes),
        kind=kind,
        params=check,
        when=dict(raw.get("when") or {}),
        status=int(refusal["status"]),
        type=refusal["type"],
        message=refusal["message"],
        source=str(raw.get("source") or ""),
        test=raw.get("test"),
        wording=raw.get("wording", "confirmed"),
        extra={k: v for k, v in refusal.items() if k not in ("status", "type", "message")},
    )


def _inherit(parent: Family, routes: tuple[str, ...], spec: dict[str, Any]) -> list[Rule]:
    """Another family's rules, answered in this provider's envelope (Bedrock relays Claude's wording
    inside its own)."""
    wrap = spec.get("message", "{message}")
    tests = spec.get("tests") or {}
    out = []
    for rule_id in spec["rules"]:
        rule = parent.rule(rule_id)
        out.append(
            replace(
                rule,
                routes=routes,
                type=spec.get("type", rule.type),
                message=wrap.replace("{message}", rule.message),
                test=tests.get(rule_id, rule.test),
            )
        )
    return out


def load(path: Path, parents: dict[str, Family] | None = None) -> Family:
    data = yamlio.load(path.read_text())
    name, routes = data["family"], tuple(data["routes"])
    own = [_rule(routes, r) for r in data["rules"]]
    spec = data.get("inherits")
    inherited = _inherit((parents or {})[spec["from"]], routes, spec) if spec else []
    # The provider's own rules first: they are what its front door checks before Claude sees the
    # body.
    return Family(
        name=name,
        title=data["title"],
        fake=data["fake"],
        routes=routes,
        beta_source=data.get("betas", "header"),
        model_in=data.get("model_in", "body"),
        example=data["example"],
        rules=tuple(own + inherited),
        inherited=frozenset(r.id for r in inherited),
    )


_LOADING = threading.Lock()


def families() -> dict[str, Family]:
    # The fakes' request threads ask at once when a run starts: without the lock each parsed every
    # file again.
    with _LOADING:
        return _families()


@cache
def _families() -> dict[str, Family]:
    loaded: dict[str, Family] = {}
    for name in FAMILIES:
        loaded[name] = load(DIRECTORY / f"{name}.yaml", loaded)
    return loaded


def all_rules() -> list[Rule]:
    return [rule for family in families().values() for rule in family.rules]


def _betas(source: str, headers: dict[str, str], body: Any) -> list[str]:
    """The anthropic betas as this provider reads them: the header, the body, or Converse's extra
    fields."""
    found: Any = []
    if source == "header":
        found = (headers.get("anthropic-beta") or "").split(",")
    elif source in ("body", "converse") and isinstance(body, dict):
        holder = body.get("additionalModelRequestFields") if source == "converse" else body
        found = holder.get("anthropic_beta") if isinstance(holder, dict) else []
    return (
        [b.strip() for b in found if isinstance(b, str) and b.strip()]
        if isinstance(found, list)
        else []
    )


def call_for(
    family: str,
    route: str,
    headers: dict[str, str],
    body: Any,
    path_model: str | None = None,
    labels: dict[str, str] | None = None,
) -> Call:
    """A request as the family's rules see it; the model comes from the path or the body, as the
    provider reads it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    spec = families()[family]
    if spec.model_in == "path":
        model = path_model or ""
    else:
        model = str(body.get("model", "")) if isinstance(body, dict) else ""
    return Call(
        route, model, lowered, body, _betas(spec.beta_source, lowered, body), dict(labels or {})
    )


def judge(family: str, call: Call) -> tuple[Rule, HttpError] | None:
    """The first rule of the family the call breaks, with the provider's refusal; None if it keeps
    them all."""
    for rule in families()[family].rules:
        found = rule.violation(call)
        if found is not None:
            return rule, rule.refusal(found, call.labels)
    return None


def merge(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, ``null`` deletes, anything else replaces.

    ``{"$repeat": [item, n]}`` stands for a list of ``n`` copies, for limits no one would write out.
    """
    if isinstance(patch, dict) and "$repeat" in patch:
        item, times = patch["$repeat"]
        return [copy.deepcopy(item) for _ in range(times)]
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def example(family: Family, *patches: dict[str, Any] | None) -> dict[str, Any]:
    """The family's example request with each self-test patch (``route``, ``model``, ``headers``,
    ``body``) applied."""
    request = copy.deepcopy(family.example)
    for patch in patches:
        for part, value in (patch or {}).items():
            request[part] = merge(request.get(part), value) if isinstance(value, dict) else value
    return request


def call_of(family: Family, request: dict[str, Any]) -> Call:
    """The Call a self-test request stands for, as the family's fake will see it."""
    return call_for(
        family.name,
        request["route"],
        request.get("headers") or {},
        request["body"],
        request.get("model"),
    )


def self_test(family: Family, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rule's broken request and the same request fixed (each a route, headers, body and maybe a
    model)."""
    if not rule.test:
        raise ValueError(f"rule {rule.id} has no test")
    broken = example(family, rule.test.get("break"))
    return broken, example(family, rule.test.get("break"), rule.test.get("fix"))


# Where each family's routes live on the wire, for sending a self-test request to its fake.
ENDPOINTS = {
    "messages": "/v1/messages",
    "count_tokens": "/v1/messages/count_tokens",
    "chat": "/v1/chat/completions",
    "responses": "/v1/responses",
    "invoke": "/model/{model}/invoke",
    "invoke_stream": "/model/{model}/invoke-with-response-stream",
    "converse": "/model/{model}/converse",
    "converse_stream": "/model/{model}/converse-stream",
    "raw_predict": "/v1/projects/cc-conformance/locations/us-east5/publishers/anthropic/models/"
    "{model}:rawPredict",
    "stream_raw_predict": "/v1/projects/cc-conformance/locations/us-east5/publishers/"
    "anthropic/models/{model}:streamRawPredict",
}


def wire(request: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """A self-test request as the path, headers and body bytes a gateway would send."""
    body = request["body"]
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    path = ENDPOINTS[request["route"]].format(model=request.get("model", ""))
    return path, {k: str(v) for k, v in (request.get("headers") or {}).items()}, content
