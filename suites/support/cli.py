"""The real Claude Code CLI in direct mode through the gateway under test, as the checks run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.claude_code.cli import SIDE_MODEL_ENV, CliResult, cli_env, run
from harness.errors import HarnessError
from harness.gateway.targets import client_headers


def claude_direct(
    cli: Any,
    proxy: Any,
    tmp_path: Path,
    *args: str,
    prompt: str = "Say hi.",
    key: str | None = None,
    side_model: str | None = None,
    extra: dict[str, str | None] | None = None,
    timeout: float = 90,
) -> CliResult:
    """``claude -p`` with ANTHROPIC_BASE_URL at the gateway and its key (or ``key``) as a Bearer
    token, a home of its own; ``side_model`` takes the side requests too. A hang is the check's
    failure, not the harness's."""
    # A gateway that needs headers on every request (Portkey's routing config) gets them as its
    # users send them: ANTHROPIC_CUSTOM_HEADERS, one "name: value" per line (issue 41).
    custom = "\n".join(f"{k}: {v}" for k, v in client_headers(proxy).items())
    env_extra = {
        **({"ANTHROPIC_CUSTOM_HEADERS": custom} if custom else {}),
        **(dict.fromkeys(SIDE_MODEL_ENV, side_model) if side_model else {}),
        **(extra or {}),
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = cli_env(
        proxy.url,
        home,
        "ANTHROPIC_AUTH_TOKEN",
        key or str(proxy.master_key),
        extra=env_extra or None,
    )
    try:
        return run(cli.binary, prompt, env, args, cwd=tmp_path, timeout=timeout)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
