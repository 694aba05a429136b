"""Static problems in a LiteLLM config that will bite Claude Code users, found without running
it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def env_refs(value: Any) -> Iterable[str]:
    """Every NAME of an ``os.environ/NAME`` reference anywhere in a config value."""
    if isinstance(value, str) and value.startswith("os.environ/"):
        yield value.removeprefix("os.environ/")
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from env_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from env_refs(item)


def config_problems(
    config: Mapping[str, Any], env: Mapping[str, str], wanted_models: Iterable[str] = ()
) -> list[Problem]:
    """Everything wrong with ``config`` for Claude Code, given the proxy's environment ``env``."""
    problems = []
    general = config.get("general_settings") or {}
    settings = config.get("litellm_settings") or {}
    if "master_key" in settings and "master_key" not in general and "LITELLM_MASTER_KEY" not in env:
        problems.append(
            Problem(
                "master-key-placement",
                "master_key is under litellm_settings, where LiteLLM "
                "ignores it; put it under general_settings or in LITELLM_MASTER_KEY",
            )
        )
    entries = [m for m in config.get("model_list") or [] if isinstance(m, Mapping)]
    names = [str(m.get("model_name", "")) for m in entries]
    problems += [
        Problem(
            "1m-in-model-name",
            f"model_name {n!r} contains [1m]; Claude Code strips the suffix "
            "before sending, so this entry is never matched",
        )
        for n in names
        if "[1m]" in n.lower()
    ]
    unset = sorted({ref for ref in env_refs(config) if not env.get(ref)})
    problems += [
        Problem("unset-env-reference", f"os.environ/{ref} is not set in this environment")
        for ref in unset
    ]
    missing = sorted(set(wanted_models) - set(names))
    problems += [
        Problem(
            "missing-claude-code-model",
            f"Claude Code asks for {m!r} by default; the config does not serve it",
        )
        for m in missing
    ]
    return problems
