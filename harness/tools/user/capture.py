"""Capture what a Claude Code version sends, by running the real CLI against a journalling fake.

``python -m harness capture-claude-code --version 2.1.332`` writes
``harness/claude_code/profiles/2.1.332.json``: the endpoint, headers and betas,
body fields and a normalised example body, the default model for each alias,
what the ``ANTHROPIC_DEFAULT_*_MODEL`` variables do, how a ``[1m]`` model is
sent, which header each auth variable becomes, and a tool-use round trip.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.claude_code import PROFILES_DIR
from harness.claude_code.cli import Installed, cli_env, install, mode_env, run
from harness.errors import HarnessError
from harness.fakes import (
    FakeAnthropic,
    ModelList,
    RecordedRequest,
    Reply,
    Text,
    TokenCount,
    ToolUse,
)
from harness.fakes.bedrock import FakeBedrock
from harness.fakes.script import Scripted
from harness.fakes.server import FakeProvider
from harness.fakes.vertex import FakeVertex

VOLATILE_HEADERS = {
    "host",
    "content-length",
    "connection",
    "x-stainless-retry-count",
    "x-stainless-timeout",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX_ID = re.compile(r"\b[0-9a-f]{64}\b")
LONG_TEXT = 400
ENV_NAMES: dict[str, str | None] = {
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "gw-opus",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "gw-sonnet",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "gw-haiku",
}
ONE_M_MODEL = "claude-sonnet-4-5-20250929[1m]"
CUSTOM_AUTH = "Authorization: Bearer sk-cc-capture-token"


class Normaliser:
    """Replaces volatile values (ids, paths, keys) so profiles diff cleanly between captures."""

    def __init__(self, paths: list[str], keys: list[str]) -> None:
        self.paths, self.keys = [p for p in paths if p], keys

    def text(self, value: str) -> str:
        for path in self.paths:
            value = value.replace(path, "<tmp>")
        for key in self.keys:
            value = value.replace(key, "<key>")
        value = UUID.sub("<uuid>", value)
        return HEX_ID.sub("<hex-id>", value)

    def body(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.body(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v) for v in value]
        if isinstance(value, str):
            value = self.text(value)
            return value if len(value) <= LONG_TEXT else f"<{len(value)} characters>"
        return value


def _betas(req: RecordedRequest) -> list[str]:
    return [b.strip() for b in (req.header("anthropic-beta") or "").split(",") if b.strip()]


def _messages(fake: FakeAnthropic) -> list[RecordedRequest]:
    return [r for r in fake.received() if r.route == "messages"]


class Capture:
    def __init__(self, installed: Installed) -> None:
        self.installed = installed
        self.fake = FakeAnthropic().start()
        self.workdir = Path(tempfile.mkdtemp(prefix="cc-capture-"))
        self.norm = Normaliser([str(self.workdir)], ["sk-cc-capture-token"])

    def close(self) -> None:
        self.fake.stop()

    def scenario(
        self,
        args: tuple[str, ...] = (),
        env: dict[str, str | None] | None = None,
        auth_var: str = "ANTHROPIC_AUTH_TOKEN",
        replies: list[Reply] | None = None,
    ) -> list[RecordedRequest]:
        self.fake.reset()
        for reply in replies or []:
            self.fake.script("messages", reply)
        self.fake.script("messages", Reply.text("ok"), times=None)
        self.fake.script("count_tokens", TokenCount(12), times=None)
        self.fake.script("models", ModelList(("claude-sonnet-4-5-20250929",)), times=None)
        home = Path(tempfile.mkdtemp(prefix="home-", dir=self.workdir))
        self.norm.paths.append(str(home))
        run(
            self.installed.binary,
            "Say hi.",
            cli_env(self.fake.url, home, auth_var, "sk-cc-capture-token", env),
            args,
            cwd=self.workdir,
        )
        return _messages(self.fake)

    def headers(self, req: RecordedRequest) -> dict[str, str]:
        return {
            k: self.norm.text(v)
            for k, v in sorted(req.headers.items())
            if k not in VOLATILE_HEADERS
        }

    def profile(self) -> dict[str, Any]:
        started = time.monotonic()
        default = self.scenario()
        # The main turn carries the tools; side requests (titles, topic checks) do not.
        main = max(default, key=lambda r: len(r.body.get("tools") or []))
        aliases = {
            alias: [r.body["model"] for r in self.scenario(("--model", alias))]
            for alias in ("opus", "sonnet", "haiku")
        }
        overridden = {
            alias: [r.body["model"] for r in self.scenario(("--model", alias), ENV_NAMES)]
            for alias in ("opus", "sonnet", "haiku")
        }
        one_m = self.scenario(("--model", ONE_M_MODEL))
        api_key = self.scenario(auth_var="ANTHROPIC_API_KEY")
        if not (default and one_m and api_key):
            raise HarnessError(
                f"Claude Code {self.installed.version} sent no Messages request "
                "to the capture server"
            )
        tool_file = self.workdir / "hello.txt"
        tool_file.write_text("hello from the capture\n")
        tool = self.scenario(
            replies=[
                Reply(
                    blocks=(
                        ToolUse(
                            "Read",
                            {"file_path": str(tool_file)},
                            id="toolu_01CaptureRoundTrip000001",
                        ),
                    ),
                    stop_reason="tool_use",
                ),
                Reply(blocks=(Text("done"),)),
            ]
        )
        return {
            "version": self.installed.version,
            "captured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "capture_seconds": round(time.monotonic() - started, 1),
            "endpoint": {"method": main.method, "path": main.path, "query": main.query},
            "headers": self.headers(main),
            "betas": _betas(main),
            "body_fields": sorted(main.body),
            "body_example": self.norm.body(main.body),
            "defaults": {
                "main": main.body["model"],
                **{a: models[0] for a, models in aliases.items()},
            },
            "models_requested_by_default": sorted({r.body["model"] for r in default}),
            "default_model_variables": {
                var: {"alias": alias, "requested": overridden[alias][0]}
                for alias, var in (
                    ("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
                    ("sonnet", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
                    ("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL"),
                )
            },
            "one_m": {
                "requested_as": ONE_M_MODEL,
                "model_sent": one_m[0].body["model"],
                "betas": _betas(one_m[0]),
            },
            "auth": {
                "ANTHROPIC_AUTH_TOKEN": _auth_header(main),
                "ANTHROPIC_API_KEY": _auth_header(api_key[0]),
            },
            "tool_round_trip": _round_trip(tool, self.norm),
            "bedrock": self.cloud_mode("bedrock"),
            "vertex": self.cloud_mode("vertex"),
        }

    def cloud_mode(self, mode: str) -> dict[str, Any]:
        """What the CLI sends in Bedrock or Vertex mode, with skip-auth and the key in a custom
        header."""
        fake: FakeProvider = FakeBedrock() if mode == "bedrock" else FakeVertex()
        fake.start()
        try:
            ok = Reply.text("ok")
            answers: dict[str, Scripted] = {
                "invoke": ok,
                "invoke_stream": ok,
                "raw_predict": ok,
                "stream_raw_predict": ok,
                "count_tokens": TokenCount(12),
                "inference_profiles": ModelList(()),
            }
            for route in set(fake.routes.values()) & set(answers):
                fake.script(route, answers[route], times=None)
            home = Path(tempfile.mkdtemp(prefix="home-", dir=self.workdir))
            env = cli_env(fake.url, home, extra=mode_env(mode, fake.url, CUSTOM_AUTH))
            run(self.installed.binary, "Say hi.", env, cwd=self.workdir)
            return _mode_summary(fake.received(), self.norm)
        finally:
            fake.stop()


def _mode_summary(received: list[RecordedRequest], norm: Normaliser) -> dict[str, Any]:
    calls = [r for r in received if r.route != "token"]
    main = max(
        (r for r in calls if isinstance(r.body, dict)),
        key=lambda r: len(r.body.get("tools") or []),
        default=None,
    )
    summary: dict[str, Any] = {
        "requests": [
            f"{r.method} {r.path}{'?' + r.query_string if r.query_string else ''}" for r in calls
        ],
        "auth": sorted({_auth_header(r) for r in calls}),
    }
    if main is not None:
        summary.update(
            {
                "model": main.labels.get("model", ""),
                "path": main.path,
                "betas_header": _betas(main),
                "betas_body": list(main.body.get("anthropic_beta") or []),
                "anthropic_version": main.body.get("anthropic_version"),
                "body_fields": sorted(main.body),
                "models_requested": sorted(
                    {r.labels["model"] for r in calls if "model" in r.labels}
                ),
            }
        )
    return norm.body(summary)  # type: ignore[no-any-return]


def _auth_header(req: RecordedRequest) -> str:
    if "sk-cc-capture-token" in (req.header("authorization") or ""):
        return "authorization: Bearer"
    return "x-api-key" if req.header("x-api-key") == "sk-cc-capture-token" else "none"


def _round_trip(requests: list[RecordedRequest], norm: Normaliser) -> dict[str, Any]:
    """The tool_result block the CLI sent back after the scripted tool_use, if it did."""
    for req in requests:
        for message in req.body.get("messages", []):
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    return {
                        "completed": True,
                        "requests": len(requests),
                        "tool_result": norm.body(block),
                    }
    return {"completed": False, "requests": len(requests)}


def capture(version: str, directory: Path = PROFILES_DIR) -> tuple[Path, dict[str, Any]]:
    installed = install(version)
    job = Capture(installed)
    try:
        profile = job.profile()
    finally:
        job.close()
    profile["install_seconds"] = round(installed.install_seconds, 1)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{version}.json"
    path.write_text(json.dumps(profile, indent=1, sort_keys=False) + "\n")
    return path, profile
