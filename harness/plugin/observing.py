"""A check's observation, gathered on its test item: the pytest side of
:mod:`harness.verdict.fingerprint`.

Fixtures register *sources* on the item; the plugin evaluates them once the call phase is over
(:func:`observation`). The stable form and its comparison live in the verdict layer, which knows no
pytest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.fakes import FakeProvider
from harness.verdict.fields import Direction
from harness.verdict.fingerprint import Observation, normalise, provider_fields

SOURCES = pytest.StashKey[dict[str, Callable[[], Any]]]()
DECLARED = pytest.StashKey[dict[str, Any]]()
SECRETS = pytest.StashKey[set[str]]()
PROVIDERS = pytest.StashKey[list[FakeProvider]]()
RANKS = pytest.StashKey[dict[str, Direction]]()


def attach(item: pytest.Item, name: str, source: Callable[[], Any]) -> None:
    """Register ``source`` to fill field ``name`` of this check's observation."""
    item.stash.setdefault(SOURCES, {})[name] = source


def declare(item: pytest.Item, name: str, value: Any, better: Direction | None = None) -> None:
    """A value the check states it observed; it becomes part of the fingerprint.

    ``better``: which way the value improves ("more" of a set that should arrive, "fewer" things
    that went wrong), so a comparison can rank its move (harness.verdict.fields); without it a move
    is unranked.
    """
    item.stash.setdefault(DECLARED, {})[name] = normalise(value)
    if better is not None:
        item.stash.setdefault(RANKS, {})[name] = better


def ranks(item: pytest.Item) -> dict[str, Direction]:
    found: dict[str, Direction] = item.stash.get(RANKS, {})
    return dict(found)


def add_secret(item: pytest.Item, secret: str | None) -> None:
    """A gateway key that must never reach a provider during this check."""
    if secret:
        item.stash.setdefault(SECRETS, set()).add(secret)


def add_provider(item: pytest.Item, provider: FakeProvider) -> None:
    item.stash.setdefault(PROVIDERS, []).append(provider)


def outcome(when: str, excinfo: pytest.ExceptionInfo[BaseException] | None) -> str:
    return "passed" if excinfo is None else f"{when} failed: {excinfo.type.__name__}"


def observation(item: pytest.Item, result: str) -> Observation:
    """The observation of ``item`` now: its outcome, every registered source and its
    declarations."""
    out: Observation = {"outcome": result}
    for name, source in item.stash.get(SOURCES, {}).items():
        try:
            value = source()
        except Exception as exc:  # a broken source must show, not hide the check's own failure
            value = f"<could not observe: {type(exc).__name__}>"
        if value is not None:
            out[name] = normalise(value)
    providers = item.stash.get(PROVIDERS, [])
    if providers:
        out.update(provider_fields(providers, item.stash.get(SECRETS, set())))
    declared = item.stash.get(DECLARED, {})
    if declared:
        out["declared"] = dict(declared)
    return out
