"""Fixtures for the harness's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

RECORDED = Path(__file__).resolve().parents[1].parent / "shared" / "recorded" / "anthropic-streams"


@pytest.fixture(scope="session")
def recorded_dir() -> Path:
    if not RECORDED.is_dir():
        pytest.fail(f"the recorded transcripts are missing: expected {RECORDED} (../shared beside the repo)")
    return RECORDED
