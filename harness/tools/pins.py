"""What the project pins: the LiteLLM it tests by default and the newest profiled Claude Code.

Shared by the user's commands and the maintainers' tools (harness/tools/ is split by audience).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from harness.claude_code import load_profiles, version_key
from harness.errors import HarnessError
from harness.verdict import deviations

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PIN = re.compile(r"litellm\[proxy\]==([0-9][0-9A-Za-z.]*)")
PLAIN_FILE = re.compile(r"litellm-([0-9][0-9A-Za-z.]*?)\.yaml")


def pinned_version(pyproject: Path = PYPROJECT, directory: Path = deviations.DIRECTORY) -> str:
    """The LiteLLM the project pins (pyproject's ``litellm[proxy]==X``); else the newest plain
    deviations file."""
    if pyproject.is_file():
        extras = (
            tomllib.loads(pyproject.read_text()).get("project", {}).get("optional-dependencies", {})
        )
        for spec in extras.get("litellm", []):
            if m := PIN.fullmatch(spec.replace(" ", "")):
                return m.group(1)
    versions = [
        m.group(1) for p in directory.glob("litellm-*.yaml") if (m := PLAIN_FILE.fullmatch(p.name))
    ]
    if not versions:
        raise HarnessError(
            f"no litellm[proxy]==X pin in {pyproject} and no litellm-X.yaml in {directory}"
        )
    return max(versions, key=version_key)


def newest_claude_code() -> str:
    """The newest profiled Claude Code version: the one the answer speaks for."""
    return str(max((p["version"] for p in load_profiles()), key=version_key))
