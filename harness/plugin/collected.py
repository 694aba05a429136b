"""What a collection of the suites holds, without running it: node ids, the requirement each check
states, and which checks are settings-sensitive. The tools (``deviations check``, ``record``) ask
it; only this layer runs pytest in-process.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from harness.errors import HarnessError

ROOT = Path(__file__).resolve().parents[2]


def _short(nodeid: str) -> str:
    return nodeid.removeprefix("suites/")


class _Collector:
    def __init__(self) -> None:
        self.requirements: dict[str, str] = {}
        self.sensitive: set[str] = set()
        self.node_ids: set[str] = set()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.node_ids.add(item.nodeid)
            reqs = [str(m.args[0]) for m in item.iter_markers("req")]
            self.requirements[_short(item.nodeid)] = reqs[0] if reqs else ""
            if item.get_closest_marker("settings_sensitive"):
                self.sensitive.add(_short(item.nodeid))


def collect(*folders: str) -> _Collector:
    collector = _Collector()
    args = [
        "--collect-only",
        "-qq",
        "-p",
        "no:cacheprovider",
        "--no-report",
        "--no-deviations",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        *(str(ROOT / f) for f in folders),
    ]
    with tempfile.TemporaryFile("w+") as sink:
        saved, sys.stdout = sys.stdout, sink  # collection's listing is noise here
        try:
            code = pytest.main(args, plugins=[collector])
        finally:
            sys.stdout = saved
    if code != 0:
        shown = " ".join(folders)
        raise HarnessError(
            f"collecting {shown} failed (pytest exit {code}); run `pytest {shown} --collect-only`"
        )
    return collector
