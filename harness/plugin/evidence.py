"""Evidence attached to a failing check: the wire transcript, the provider journal, the proxy log.

Fixtures register *sources* (a title and a function producing text) on the test
item; the plugin renders them only when the test fails, so passing tests pay
nothing for the evidence they would have shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from harness.fakes import FakeProvider
from harness.protocol.client import GatewayClient

SOURCES = pytest.StashKey[list[tuple[str, Callable[[], str]]]]()


def attach(item: pytest.Item, title: str, source: Callable[[], str]) -> None:
    item.stash.setdefault(SOURCES, []).append((title, source))


def collect(item: pytest.Item) -> list[tuple[str, str]]:
    """Render every source registered on ``item``; a broken source shows its error, not a crash."""
    out = []
    for title, source in item.stash.get(SOURCES, []):
        try:
            text = source()
        except Exception as exc:  # evidence must never hide the real failure
            text = f"<could not render evidence: {exc!r}>"
        if text.strip():
            out.append((title, text))
    return out


def exchanges(client: GatewayClient, secret: str | None) -> str:
    return "\n\n".join(ex.transcript(redact=secret) for ex in client.exchanges)


def journal(provider: FakeProvider) -> str:
    lines = []
    for n, req in enumerate(provider.received()):
        query = req.query_string
        lines.append(
            f"#{n} {req.method} {req.path}{'?' + query if query else ''} (route {req.route})"
        )
        lines += [f"  {k}: {v}" for k, v in req.headers.items()]
        lines.append("  " + json.dumps(req.body)[:4000])
    return "\n".join(lines)
