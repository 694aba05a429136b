"""Fingerprints as ranked vectors: each field of an observation compared with a documented order.

A fingerprint (:mod:`harness.verdict.fingerprint`) is what a check observed. Two of them, the one on
record (or the baseline run's) and the one seen now, are compared field by field, and each
field that differs *moves*: ``better``, ``worse``, or ``changed`` when the field's order does
not say (two different 4xx codes, two different provider call lists). The orders, best first:

========================  ==========================================================================
field                     order (better → worse)
========================  ==========================================================================
outcome                   passed > an assertion failed > any other exception (a crash, a timeout)
                          > a setup or teardown failure. An assertion never covers a crash.
client: status            a success or 4xx where the other side has the same > 4xx > a specific 5xx
                          (502, 503, 529 ...) > a bare 500 > no answer. 2xx against non-2xx, or two
                          different codes of one rank, are unranked (``changed``): without the
                          check's expected code, 401 → 200 may be a fix or an open door.
client: envelope          Anthropic's error envelope > other JSON (OpenAI's, a string error) > not
                          JSON. Two different types of one family are unranked, unless each is the
                          documented type of its status (api_error for 500 ...): then it moved with
                          the status and is not counted apart.
client: stream            fewer grammar rules broken is better (one message_start first, blocks
                          opened and closed in order, message_stop last, nothing after an error).
client: exchanges         a different number or order of requests is unranked.
provider_calls            unranked: which calls are required depends on the check.
unscripted                fewer requests nobody scripted is better.
gateway_key_at_provider   false > true (security).
secret_exposed            fewer places a secret showed is better (security).
network_escape            fewer attempts beyond loopback is better (security).
declared                  by the direction the check declared (``observe(..., better="fewer")``);
                          a name with ``status`` holding codes ranks as client status; a list
                          named for what went wrong (changed, lost, dropped, problems, broken,
                          violations, missing) is better shorter; anything else is unranked.
========================  ==========================================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.protocol.validators.bodies import ERROR_TYPE_FOR_STATUS

Move = Literal["better", "worse", "changed"]
Direction = Literal["more", "fewer", "higher", "lower"]
# Fields whose move for the worse is a security regression whatever the check states.
SECURITY_FIELDS = frozenset({"gateway_key_at_provider", "network_escape", "secret_exposed"})
ABSENT = "<absent>"


@dataclass(frozen=True)
class FieldMove:
    field: str
    before: Any
    after: Any
    move: Move

    @property
    def security(self) -> bool:
        return self.move == "worse" and self.field.split(".")[0] in SECURITY_FIELDS

    def arrow(self) -> str:
        sign = {"better": "↑ better", "worse": "↓ worse", "changed": "~ changed"}[self.move]
        if self.before == self.after == "":
            return f"{self.field} ({sign})"
        return f"{self.field}: {_short(self.before)} → {_short(self.after)} ({sign})"


def _short(value: Any, limit: int = 120) -> str:
    text = (
        value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def by_rank(before: int, after: int) -> Move | None:
    """Lower rank is better; None when equal."""
    if after < before:
        return "better"
    if after > before:
        return "worse"
    return None


# -- outcome ---------------------------------------------------------------------------------------


def outcome_rank(outcome: str) -> int:
    if outcome == "passed":
        return 0
    if outcome == "call failed: AssertionError":
        return 1
    if outcome.startswith("call failed"):
        return 2
    return 3


# -- the client's side -----------------------------------------------------------------------------

_EXCHANGE = re.compile(r"^(?P<line>\S+ \S+) -> (?P<status>\S+)(?: (?P<body>.*))?$")


def status_rank(code: int) -> int | None:
    """4xx 1, a specific 5xx 2, a bare 500 3, no answer 4; a success is None (not ranked against
    errors)."""
    if code == 0:
        return 4
    if code == 500:
        return 3
    if code >= 500:
        return 2
    if code >= 400:
        return 1
    return None


def status_move(before: int, after: int) -> Move | None:
    if before == after:
        return None
    a, b = status_rank(before), status_rank(after)
    if a is None or b is None or a == b:
        return "changed"
    return by_rank(a, b)


def envelope_rank(envelope: str) -> int:
    if envelope.startswith("anthropic-error:"):
        return 0
    if (
        envelope.startswith(("openai-error:", "json", "error-string"))
        and "not JSON" not in envelope
    ):
        return 1
    return 2


def envelope_move(before: str, after: str) -> Move | None:
    if before == after:
        return None
    return by_rank(envelope_rank(before), envelope_rank(after)) or "changed"


STREAM_ORDER = re.compile(r"^sse \[(?P<events>.*)\]$")


def grammar_broken(order: str) -> int:
    """How many stream grammar rules an event order (``event_order``'s form) breaks."""
    events = [e.rstrip("+") for e in order.split()]
    if not events:
        return 1
    broken = 0
    ended_by_error = "error" in events
    if ended_by_error:
        # An error ends the stream: anything after it, and a message_stop that pretends
        # completeness, break it.
        after = events[events.index("error") + 1 :]
        broken += len(after) + (1 if "message_stop" in events else 0)
        events = events[: events.index("error")]
    else:
        broken += events[-1] != "message_stop"
    broken += events.count("message_start") != 1 or (bool(events) and events[0] != "message_start")
    broken += max(0, events.count("message_stop") - 1)
    open_blocks = 0
    for name in events:
        if name == "content_block_start":
            broken += open_blocks > 0
            open_blocks += 1
        elif name == "content_block_stop":
            broken += open_blocks == 0
            open_blocks = max(0, open_blocks - 1)
        elif name == "content_block_delta":
            broken += open_blocks == 0
        elif name in ("message_delta", "message_stop"):
            broken += open_blocks > 0
    return broken + (open_blocks > 0 and not ended_by_error and "message_stop" not in events)


def body_move(before: str, after: str) -> Move | None:
    if before == after:
        return None
    old, new = STREAM_ORDER.match(before), STREAM_ORDER.match(after)
    if old and new:
        return by_rank(grammar_broken(old["events"]), grammar_broken(new["events"])) or "changed"
    if old or new:
        return "changed"
    return envelope_move(before, after)


def exchange_moves(index: int, before: str, after: str) -> list[FieldMove]:
    a, b = _EXCHANGE.match(before), _EXCHANGE.match(after)
    name = f"client[{index}]"
    if not a or not b or a["line"] != b["line"]:
        return [FieldMove(name, before, after, "changed")]
    out = []
    sa, sb = _int(a["status"]), _int(b["status"])
    if (move := status_move(sa, sb)) is not None:
        out.append(FieldMove(f"{name}.status", sa, sb, move))
    if _type_follows_status(sa, a["body"] or "", sb, b["body"] or ""):
        # the error type is the documented one for each status: it moved with the status, not apart
        return out
    if (move := body_move(a["body"] or "", b["body"] or "")) is not None:
        out.append(FieldMove(f"{name}.body", a["body"], b["body"], move))
    return out


def _type_follows_status(sa: int, before: str, sb: int, after: str) -> bool:
    family_a, _, type_a = before.partition(":")
    family_b, _, type_b = after.partition(":")
    return (
        sa != sb
        and family_a == family_b
        and family_a.endswith("-error")
        and documented_type(sa) == type_a
        and documented_type(sb) == type_b
    )


def documented_type(status: int) -> str | None:
    return ERROR_TYPE_FOR_STATUS.get(status, "api_error" if status >= 500 else None)


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def client_moves(before: Any, after: Any) -> list[FieldMove]:
    if not isinstance(before, list) or not isinstance(after, list):
        return [FieldMove("client", before, after, "changed")]
    out: list[FieldMove] = []
    if len(before) != len(after):
        out.append(FieldMove("client.exchanges", len(before), len(after), "changed"))
    for i, (a, b) in enumerate(zip(before, after, strict=False)):
        if a != b:
            out += exchange_moves(i, str(a), str(b))
    return out


# -- declared values -------------------------------------------------------------------------------

WRONG_THINGS = re.compile(
    r"changed|lost|dropped|problem|broken|violation|missing|invariant|unscripted", re.I
)


def _size(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return 0.0 if not value else 1.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list | dict):
        return float(len(value))
    if isinstance(value, str):  # a header's comma-separated list (anthropic-beta)
        return float(len([v for v in value.split(",") if v.strip()]))
    return None


def directed_move(before: Any, after: Any, direction: Direction) -> Move:
    a, b = _size(before), _size(after)
    if a is None or b is None or a == b:
        return "changed"
    grows = b > a
    if direction in ("more", "higher"):
        return "better" if grows else "worse"
    return "worse" if grows else "better"


def declared_move(name: str, before: Any, after: Any, direction: Direction | None) -> Move:
    if direction is not None:
        return directed_move(before, after, direction)
    if "status" in name.lower() and isinstance(before, int) and isinstance(after, int):
        return status_move(before, after) or "changed"
    if (
        WRONG_THINGS.search(name)
        and isinstance(before, list | type(None))
        and isinstance(after, list | type(None))
    ):
        return directed_move(before, after, "fewer")
    return "changed"


def declared_moves(before: Any, after: Any, ranks: Mapping[str, Direction]) -> list[FieldMove]:
    a = before if isinstance(before, dict) else {}
    b = after if isinstance(after, dict) else {}
    out = []
    for key in sorted(set(a) | set(b)):
        old, new = a.get(key, ABSENT), b.get(key, ABSENT)
        if old != new:
            out.append(
                FieldMove(f"declared.{key}", old, new, declared_move(key, old, new, ranks.get(key)))
            )
    return out


# -- the whole fingerprint -------------------------------------------------------------------------


def _count_move(name: str) -> Callable[[Any, Any], list[FieldMove]]:
    def compare(before: Any, after: Any) -> list[FieldMove]:
        return [
            FieldMove(name, before, after, directed_move(_listed(before), _listed(after), "fewer"))
        ]

    return compare


def _listed(value: Any) -> Any:
    return [] if value in (None, ABSENT) else value


def _key_move(before: Any, after: Any) -> list[FieldMove]:
    if after is not True and before is not True:
        return []  # false and absent (no gateway key in play) say the same
    return [
        FieldMove("gateway_key_at_provider", before, after, "worse" if after is True else "better")
    ]


def _outcome_move(before: Any, after: Any) -> list[FieldMove]:
    move = by_rank(outcome_rank(str(before)), outcome_rank(str(after))) or "changed"
    return [FieldMove("outcome", before, after, move)]


RANKERS: dict[str, Callable[[Any, Any], list[FieldMove]]] = {
    "outcome": _outcome_move,
    "client": client_moves,
    "unscripted": _count_move("unscripted"),
    "network_escape": _count_move("network_escape"),
    "secret_exposed": _count_move("secret_exposed"),
    "gateway_key_at_provider": _key_move,
}


def moves(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    ranks: Mapping[str, Direction] | None = None,
) -> list[FieldMove]:
    """Every field that differs between two fingerprints, and which way it moved."""
    out: list[FieldMove] = []
    for key in sorted(set(before) | set(after), key=lambda k: (k != "outcome", k)):
        old, new = before.get(key, ABSENT), after.get(key, ABSENT)
        if old == new:
            continue
        if key == "declared":
            out += declared_moves(old, new, ranks or {})
        elif key in RANKERS:
            out += RANKERS[key](old, new)
        else:
            out.append(FieldMove(key, old, new, "changed"))
    return out
