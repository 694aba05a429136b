"""What a rule can test: each kind reads its parameters and a call, and names the first violation.

A kind answers ``None`` when the call keeps the rule, or the values its refusal's
wording quotes (``{path}``, ``{value}``, ``{limit}``, ...). Kinds are deliberately few
and generic, so a new rule is data in a rules file, not code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from harness.fakes.rules.paths import MISSING, find, first
from harness.tapes import DIRECTORY as CASSETTES

Found = dict[str, Any] | None


@dataclass
class Call:
    """One request as a provider rule sees it."""

    route: str
    model: str
    headers: dict[str, str]
    body: Any
    betas: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # what the path named: project, location

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_object(p: dict[str, Any], call: Call) -> Found:
    return None if isinstance(call.body, dict) else {"value": call.body}


def required(p: dict[str, Any], call: Call) -> Found:
    missing = [f for f in p["fields"] if first(call.body, f) is MISSING]
    return {"field": missing[0]} if missing else None


def present(p: dict[str, Any], call: Call) -> Found:
    for path in p["fields"]:
        for where, value in find(call.body, path):
            if p.get("nonempty") and not value:
                continue
            return {"path": where, "field": where.rsplit(".", 1)[-1], "value": value}
    return None


def allowed_keys(p: dict[str, Any], call: Call) -> Found:
    allowed = set(p["keys"])
    for where, node in find(call.body, p["path"]) if p.get("path") else [("", call.body)]:
        if isinstance(node, dict):
            for key in node:
                if key not in allowed:
                    return {"path": f"{where}.{key}" if where else key, "field": key}
    return None


def value_range(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if not _is_number(value):
            continue
        if "min" in p and value < p["min"]:
            return {
                "path": where,
                "value": value,
                "limit": p["min"],
                "bound": "greater than or equal to",
                "dir": "below minimum",
                "op": ">=",
                "code_dir": "below_min",
            }
        if "max" in p and value > p["max"]:
            return {
                "path": where,
                "value": value,
                "limit": p["max"],
                "bound": "less than or equal to",
                "dir": "above maximum",
                "op": "<=",
                "code_dir": "above_max",
            }
    return None


def ceiling(p: dict[str, Any], call: Call) -> Found:
    limit = next(
        (n for pattern, n in p["by_model"].items() if re.search(pattern, call.model)), None
    )
    value = first(call.body, p["path"])
    if limit is not None and _is_number(value) and value > limit:
        return {"path": p["path"], "value": value, "limit": limit, "model": call.model}
    return None


def pattern(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if isinstance(value, str) and not re.fullmatch(p["regex"], value):
            return {"path": where, "value": value, "regex": p["regex"], "length": len(value)}
    return None


def max_length(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if isinstance(value, str | list) and len(value) > p["max"]:
            return {"path": where, "length": len(value), "limit": p["max"]}
    return None


def min_length(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if isinstance(value, str | list) and len(value) < p["min"]:
            return {"path": where, "length": len(value), "limit": p["min"]}
    return None


def matches(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if isinstance(value, str) and re.search(p["regex"], value):
            return {"path": where, "value": value}
    return None


def one_of(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if value not in p["values"]:
            return {"path": where, "value": value}
    return None


def none_of(p: dict[str, Any], call: Call) -> Found:
    for where, value in find(call.body, p["path"]):
        if value in p["values"]:
            return {"path": where, "value": value}
    return None


def all_present(p: dict[str, Any], call: Call) -> Found:
    if all(first(call.body, f) is not MISSING for f in p["fields"]):
        return {"fields": ", ".join(p["fields"])}
    return None


def unique(p: dict[str, Any], call: Call) -> Found:
    seen: set[Any] = set()
    for where, value in find(call.body, p["path"]):
        if value in seen:
            return {"path": where, "value": value}
        seen.add(value)
    return None


def count_max(p: dict[str, Any], call: Call) -> Found:
    count = sum(1 for path in p["paths"] for _ in find(call.body, path))
    return {"count": count, "limit": p["max"]} if count > p["max"] else None


def greater_than(p: dict[str, Any], call: Call) -> Found:
    value, other = first(call.body, p["path"]), first(call.body, p["other"])
    if _is_number(value) and _is_number(other) and not value > other:
        return {"value": value, "other": other}
    return None


def blank(p: dict[str, Any], call: Call) -> Found:
    # ``blank``: the characters that count as nothing (default: all whitespace).
    for where, value in find(call.body, p["path"]):
        if isinstance(value, str) and not value.strip(p.get("blank")):
            return {"path": where}
    return None


def first_role(p: dict[str, Any], call: Call) -> Found:
    roles = [role for _, role in find(call.body, "messages[*].role")]
    return {"value": roles[0]} if roles and roles[0] != p["role"] else None


def alternating_roles(p: dict[str, Any], call: Call) -> Found:
    roles = [role for _, role in find(call.body, "messages[*].role")]
    for i in range(1, len(roles)):
        if roles[i] == roles[i - 1]:
            return {"path": f"messages.{i}", "value": roles[i]}
    return None


def tool_results_answer_tool_uses(p: dict[str, Any], call: Call) -> Found:
    """Each tool_result names a tool_use of the assistant message just before its own message."""
    found = call.body.get("messages") if isinstance(call.body, dict) else None
    messages: list[Any] = found if isinstance(found, list) else []
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        before = messages[i - 1].get("content") if i and isinstance(messages[i - 1], dict) else None
        offered = (
            {b.get("id") for b in before if isinstance(b, dict) and b.get("type") == "tool_use"}
            if isinstance(before, list)
            else set()
        )
        for block in content:
            is_result = isinstance(block, dict) and block.get("type") == "tool_result"
            answered = block.get("tool_use_id") if is_result else None
            if answered is not None and answered not in offered:
                return {"path": f"messages.{i}.content", "value": answered}
    return None


def betas(p: dict[str, Any], call: Call) -> Found:
    allowed = catalogue(p["catalogue"])["betas"] if "catalogue" in p else p["allowed"]
    unknown = [b for b in call.betas if b not in allowed]
    return {"value": ", ".join(unknown), "beta": unknown[0]} if unknown else None


def model(p: dict[str, Any], call: Call) -> Found:
    allowed = catalogue(p["catalogue"])["models"] if "catalogue" in p else p.get("allowed")
    if allowed is not None and call.model not in allowed:
        return {"value": call.model, "model": call.model}
    if "regex" in p and not re.fullmatch(p["regex"], call.model):
        return {"value": call.model, "model": call.model}
    return None


def header_required(p: dict[str, Any], call: Call) -> Found:
    return {"name": p["name"]} if call.header(p["name"]) is None else None


def header(p: dict[str, Any], call: Call) -> Found:
    value = call.header(p["name"])
    return None if value is None or value in p["values"] else {"name": p["name"], "value": value}


@cache
def catalogue(provider: str) -> dict[str, frozenset[str]]:
    """What a provider serves, kept with its cassettes (cassettes/<provider>/catalogue.json)."""
    data = json.loads((CASSETTES / provider / "catalogue.json").read_text())
    return {k: frozenset(v) for k, v in data.items() if isinstance(v, list)}


KINDS: dict[str, Callable[[dict[str, Any], Call], Found]] = {
    "json_object": json_object,
    "min_length": min_length,
    "matches": matches,
    "header_required": header_required,
    "required": required,
    "present": present,
    "allowed_keys": allowed_keys,
    "range": value_range,
    "ceiling": ceiling,
    "pattern": pattern,
    "max_length": max_length,
    "one_of": one_of,
    "none_of": none_of,
    "all_present": all_present,
    "unique": unique,
    "count_max": count_max,
    "greater_than": greater_than,
    "blank": blank,
    "first_role": first_role,
    "alternating_roles": alternating_roles,
    "tool_results_answer_tool_uses": tool_results_answer_tool_uses,
    "betas": betas,
    "model": model,
    "header": header,
}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _version(call: Call) -> Any:
    return call.header("anthropic-version") or first(call.body, "anthropic_version")


# A rule's ``when``: each condition's value, and the call it is judged on.
CONDITIONS: dict[str, Callable[[Any, Call], bool]] = {
    "model": lambda v, call: re.search(v, call.model) is not None,
    "not_model": lambda v, call: re.search(v, call.model) is None,
    "no_beta": lambda v, call: not any(b in call.betas for b in _listed(v)),
    "in": lambda v, call: all(first(call.body, k) in want for k, want in v.items()),
    "version": lambda v, call: _version(call) == v,
    "absent": lambda v, call: first(call.body, v) is MISSING,
    "equals": lambda v, call: all(first(call.body, k) == want for k, want in v.items()),
}


def holds(condition: dict[str, Any], call: Call) -> bool:
    """Every named condition holds for the call (the rules file's loader has checked the names)."""
    return all(CONDITIONS[name](value, call) for name, value in condition.items())
