"""The real Claude Code CLI from npm: installed once per version into a cache, run in `-p` mode.

Every run gets a throwaway HOME, no non-essential traffic, few retries, and a hard
timeout that kills the CLI's whole process group and shows what it printed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

ROOT = Path(__file__).resolve().parents[2]
# A checkout keeps the CLIs in its own .cache/; an installed harness in the user's cache folder.
CACHE = (
    ROOT / ".cache"
    if (ROOT / "pyproject.toml").is_file()
    else Path.home() / ".cache" / "cc-gateway-conformance"
) / "claude-code"
PACKAGE = "@anthropic-ai/claude-code"
RUN_TIMEOUT = 60.0


@dataclass
class Installed:
    version: str
    binary: Path
    install_seconds: float  # 0.0 when it came from the cache


@dataclass
class CliResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.stdout.strip().splitlines()[-1]) if self.stdout.strip() else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise AssertionError(
                f"claude printed no JSON result (exit {self.returncode}):\n{self.transcript()}"
            )
        return data

    def transcript(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n(exit {self.returncode}, {self.seconds:.1f} s)\n"
            f"{self.stdout}\n{self.stderr}"
        )


def npm_unavailable(what: str = "the Claude Code CLI") -> str | None:
    """Why ``what`` cannot be installed from npm here, or None if npm is usable."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return f"npm/node are not on PATH, so {what} cannot be installed"
    return None


def npm_install(spec: str, prefix: Path) -> subprocess.CompletedProcess[str]:
    """``npm install spec`` into an empty ``prefix`` (install scripts on: 2.1.x ships its native
    binary in a platform package); the caller judges the result."""
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.mkdir(parents=True)
    return subprocess.run(
        ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
         "--loglevel=error", spec],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class NpmPin:
    """A Node gateway's npm package, pinned: the version and the registry's sha512 of its tarball
    (issue 41: Portkey's gateway, claude-code-router)."""

    package: str
    version: str
    integrity: str
    entry: Path  # the script to run, relative to the install prefix
    what: str  # how an error names it


def npm_install_pinned(pin: NpmPin, cache: Path, version: str | None = None) -> Path:
    """Install ``pin`` (or another ``version`` of its package, unpinned) into ``cache`` once; the
    script to run. An install that resolves to other bytes than the pin is refused and removed."""
    version = version or pin.version
    prefix = cache / version
    entry = prefix / pin.entry
    if (prefix / ".complete").exists() and entry.exists():
        return entry
    cache.mkdir(parents=True, exist_ok=True)
    # One install at a time: the suite's workers each start gateways, and two npm runs in one
    # prefix break each other (a fresh clone's CI run met ENOENT that way).
    with (cache / f"{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (prefix / ".complete").exists() and entry.exists():
            return entry
        return _install_pinned(pin, prefix, version, entry)


def _install_pinned(pin: NpmPin, prefix: Path, version: str, entry: Path) -> Path:
    reason = npm_unavailable(pin.what)
    if reason:
        raise HarnessError(reason)
    done = npm_install(f"{pin.package}@{version}", prefix)
    lock = prefix / "package-lock.json"
    got = ""
    if done.returncode == 0 and lock.exists():
        got = json.loads(lock.read_text())["packages"][f"node_modules/{pin.package}"]["integrity"]
    if done.returncode or (version == pin.version and got != pin.integrity):
        shutil.rmtree(prefix, ignore_errors=True)
        raise HarnessError(
            f"npm could not install {pin.package}@{version} as pinned (integrity "
            f"{got or 'none'}):\n" + "\n".join((done.stderr + done.stdout).splitlines()[-15:])
        )
    (prefix / ".complete").write_text(version)
    return entry


def install(version: str, cache: Path = CACHE) -> Installed:
    """Install ``@anthropic-ai/claude-code@version`` into the cache (once) and return its binary."""
    reason = npm_unavailable()
    if reason:
        raise HarnessError(reason)
    prefix = cache / version
    binary = prefix / "node_modules" / ".bin" / "claude"
    if (prefix / ".complete").exists() and binary.exists():
        return Installed(version, binary, 0.0)
    started = time.monotonic()
    done = npm_install(f"{PACKAGE}@{version}", prefix)
    if done.returncode:
        shutil.rmtree(prefix, ignore_errors=True)
        text = done.stderr + done.stdout
        if "ETARGET" in text or "E404" in text or "No matching version" in text:
            raise HarnessError(
                f"Claude Code {version} does not exist on npm ({PACKAGE}); "
                f"`npm view {PACKAGE} versions` lists the ones there are."
            )
        raise HarnessError(
            f"npm could not install Claude Code {version}:\n" + "\n".join(text.splitlines()[-15:])
        )
    if not binary.exists():
        raise HarnessError(f"npm installed Claude Code {version} but {binary} is missing")
    (prefix / ".complete").write_text(version)
    return Installed(version, binary, time.monotonic() - started)


# Every variable that names a model the CLI may call besides --model: its small model (titles, topic
# checks) and the tier aliases its subagents use (2.0.77 warms up a "sonnet" one). A check that
# scripts errors sends them all to deployments of its own: on LiteLLM's defaults a deployment that
# answered errors is benched for a while, and a shared one would fail the next check.
SIDE_MODEL_ENV = (
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
)


def cli_env(
    base_url: str,
    home: Path,
    auth_var: str = "ANTHROPIC_AUTH_TOKEN",
    key: str = "sk-cc-test",
    extra: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """The CLI's environment; a None in ``extra`` removes that variable."""
    env = {k: os.environ[k] for k in ("PATH", "LANG", "TERM") if k in os.environ}
    env.update(
        {
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": base_url,
            auth_var: key,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # Without a low retry budget one error case retries for minutes.
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "DISABLE_AUTOUPDATER": "1",
            "NO_PROXY": "*",
        }
    )
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(
    binary: Path,
    prompt: str,
    env: dict[str, str],
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
    timeout: float = RUN_TIMEOUT,
) -> CliResult:
    """``claude -p PROMPT --output-format json``; a hang is killed after ``timeout`` and
    reported."""
    argv = [str(binary), "-p", prompt, "--output-format", "json", *args]
    with tempfile.TemporaryDirectory(prefix="cc-run-") as scratch:
        started = time.monotonic()
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd or scratch,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            out, err = process.communicate()
            result = CliResult(argv, -9, out, err, time.monotonic() - started)
            raise HarnessError(
                f"claude did not finish within {timeout:.0f} s and was killed:\n"
                f"{result.transcript()}"
            ) from None
        finally:
            _kill_group(process.pid)  # whatever the CLI left running in its session goes with it
        return CliResult(argv, process.returncode, out, err, time.monotonic() - started)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# Claude Code in Bedrock or Vertex mode, as the capture and the cloud checks run it.
VERTEX_PROJECT, VERTEX_REGION, BEDROCK_REGION = "cc-capture-project", "us-east5", "us-west-2"


def mode_env(
    mode: str,
    base_url: str,
    custom_headers: str,
    project: str = VERTEX_PROJECT,
    region: str = VERTEX_REGION,
) -> dict[str, str | None]:
    """Claude Code's variables for a gateway in front of Bedrock (``base/bedrock``) or Vertex
    (``base/vertex_ai/v1``).

    Skip-auth: the CLI signs nothing; the gateway key travels in ``ANTHROPIC_CUSTOM_HEADERS``.
    ``ANTHROPIC_BASE_URL`` and the token are removed (None), so nothing else can be used.
    """
    if mode == "bedrock":
        return {
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "ANTHROPIC_BEDROCK_BASE_URL": base_url,
            "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1",
            "AWS_REGION": BEDROCK_REGION,
            "ANTHROPIC_CUSTOM_HEADERS": custom_headers,
            "ANTHROPIC_BASE_URL": None,
            "ANTHROPIC_AUTH_TOKEN": None,
        }
    return {
        "CLAUDE_CODE_USE_VERTEX": "1",
        "ANTHROPIC_VERTEX_BASE_URL": base_url + "/v1",
        "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
        "ANTHROPIC_VERTEX_PROJECT_ID": project,
        "CLOUD_ML_REGION": region,
        "ANTHROPIC_CUSTOM_HEADERS": custom_headers,
        "ANTHROPIC_BASE_URL": None,
        "ANTHROPIC_AUTH_TOKEN": None,
    }
