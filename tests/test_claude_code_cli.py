"""The Claude Code CLI wrapper: clear errors for bad versions, missing npm and hangs; capture
normalises."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.claude_code import PROFILES, load_profiles
from harness.claude_code.cli import install, npm_unavailable, run
from harness.errors import HarnessError
from harness.tools.user.capture import Normaliser

ROOT = Path(__file__).resolve().parents[1]


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_profiles_cover_1_0_2_0_and_2_1():
    versions = [p["version"] for p in load_profiles()]
    assert {v.rsplit(".", 1)[0] for v in versions} >= {"1.0", "2.0", "2.1"}
    for profile in PROFILES:
        assert profile["endpoint"]["path"] == "/v1/messages"
        assert set(profile["defaults"]) >= {"main", "opus", "sonnet", "haiku"}
        assert profile["auth"] == {
            "ANTHROPIC_AUTH_TOKEN": "authorization: Bearer",
            "ANTHROPIC_API_KEY": "x-api-key",
        }
        assert profile["tool_round_trip"]["completed"]


def test_normaliser_removes_ids_paths_and_keys():
    norm = Normaliser(["/tmp/cc-capture-x"], ["sk-secret"])
    body = norm.body(
        {
            "user_id": "session 5f3c7a1e-1111-4222-8333-944455556666 in /tmp/cc-capture-x/a",
            "key": "Bearer sk-secret",
            "device": "a" * 64,
            "long": "x" * 500,
        }
    )
    assert body == {
        "user_id": "session <uuid> in <tmp>/a",
        "key": "Bearer <key>",
        "device": "<hex-id>",
        "long": "<500 characters>",
    }


def test_version_missing_from_npm_is_explained(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script(
        bin_dir / "npm",
        'echo "npm error code ETARGET" >&2; echo "npm error notarget No matching version found '
        'for @anthropic-ai/claude-code@9.9.9." >&2; exit 1',
    )
    os.symlink(sys.executable, bin_dir / "node")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(HarnessError, match=r"Claude Code 9\.9\.9 does not exist on npm"):
        install("9.9.9", cache=tmp_path / "cache")


def test_npm_unavailable_gives_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert (
        npm_unavailable() == "npm/node are not on PATH, so the Claude Code CLI cannot be installed"
    )


def test_e2e_checks_are_skipped_with_that_reason_without_npm(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites/test_claude_code_e2e.py",
            "-q",
            "-rs",
            "--no-report",
            "-p",
            "no:cacheprovider",
            "--claude-code",
            "2.0.77",
            "-k",
            "defaults",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "end-to-end checks skipped: npm/node are not on PATH" in done.stdout


def test_hanging_cli_is_killed_and_its_output_shown(tmp_path):
    pidfile = tmp_path / "child.pid"
    fake = script(tmp_path / "claude", f'echo "starting up"; sleep 300 & echo $! > {pidfile}; wait')
    started = time.monotonic()
    with pytest.raises(
        HarnessError, match=r"(?s)did not finish within 1 s and was killed.*starting up"
    ):
        run(fake, "hi", {"PATH": os.environ["PATH"]}, timeout=1)
    assert time.monotonic() - started < 10
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE
