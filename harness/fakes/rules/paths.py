"""Paths into a JSON body, written the way providers name them in their refusals.

``messages[*].content[*].type`` walks every block of every message;
``messages[role=assistant].content[*].type`` only the assistant's; ``tools[*].name``
every tool's name. A match carries its concrete path in the provider's own dotted
form (``messages.1.content.0.type``), so a refusal can quote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_SEGMENT = re.compile(r"(?P<key>[^.\[\]]+)?(?P<index>\[[^\]]*\])?")
MISSING = object()


def _segments(path: str) -> list[tuple[str | None, str | None]]:
    out: list[tuple[str | None, str | None]] = []
    for part in path.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise ValueError(f"bad rule path {path!r} at {part!r}")
        index = match["index"][1:-1] if match["index"] else None
        out.append((match["key"], index))
    return out


def _select(node: Any, index: str, where: str) -> Iterator[tuple[str, Any]]:
    if not isinstance(node, list):
        return
    key, _, wanted = index.partition("=")
    for i, item in enumerate(node):
        if index == "*" or (isinstance(item, dict) and str(item.get(key)) == wanted):
            yield f"{where}.{i}" if where else str(i), item


def find(body: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every (concrete path, value) the path reaches; nothing where a step is missing."""
    frontier: list[tuple[str, Any]] = [("", body)]
    for key, index in _segments(path):
        step: list[tuple[str, Any]] = []
        for where, node in frontier:
            if key is not None:
                if not isinstance(node, dict) or key not in node:
                    continue
                where, node = (f"{where}.{key}" if where else key), node[key]
            if index is None:
                step.append((where, node))
            else:
                step.extend(_select(node, index, where))
        frontier = step
    yield from frontier


def first(body: Any, path: str) -> Any:
    """The first value the path reaches, or MISSING."""
    return next((value for _, value in find(body, path)), MISSING)
