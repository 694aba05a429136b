"""The suite run as a user runs it, in a subprocess, for the self-tests that judge a whole run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_suite(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` on one worker from the checkout's root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-n", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=timeout,
    )
