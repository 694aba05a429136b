"""Fixtures for the harness's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import recorded

pytest_plugins = ["pytester"]

RECORDED = recorded.DIRECTORY


@pytest.fixture(scope="session")
def recorded_dir() -> Path:
    if not RECORDED.is_dir():
        pytest.fail(f"the recorded transcripts are missing: expected {RECORDED} (../shared beside the repo)")
    return RECORDED
