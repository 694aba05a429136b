"""``cc-gateway-conformance [PYTEST ARGS]``: the installed suites, run from any folder.

It runs pytest over the installed ``cc_gateway_suites`` with the suites' own settings
(``conformance.ini``), and keeps everything a run writes in the current folder: ``reports/``,
pytest's cache, and the fuzz checks' example database (copied there from the package on first use,
so the installed package is never written to). Narrow a run with ``-k``/``-m``; every other pytest
and harness option passes through (``--litellm-python``, ``-n 0`` ...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.plugin.stash import SUITES_DIR


def pytest_args(suites: Path, here: Path, argv: list[str]) -> list[str]:
    """The command line for pytest: the suites' settings and folder, this folder for what the run
    writes."""
    return [
        "-c",
        str(suites / "conformance.ini"),
        "--rootdir",
        str(suites),
        "-o",
        f"cache_dir={here / '.pytest_cache'}",
        "--report-dir",
        str(here / "reports"),
        *argv,
        str(suites),
    ]


def fuzz_examples(suites: Path, here: Path) -> Path:
    """The fuzz checks' example database, in this folder: a run adds to it, and the package stays as
    installed."""
    target = here / ".cc-gateway" / "fuzz-examples"
    if not target.exists() and (suites / "fuzz-examples").is_dir():
        shutil.copytree(suites / "fuzz-examples", target)
    return target


def main(argv: list[str] | None = None) -> int:
    here = Path.cwd()
    os.environ.setdefault("CC_GATEWAY_FUZZ_EXAMPLES", str(fuzz_examples(SUITES_DIR, here)))
    # pytest in a process of its own: only the pytest layer and the suites import pytest (the
    # contract in pyproject.toml), and the run's exit code is pytest's.
    args = pytest_args(SUITES_DIR, here, list(sys.argv[1:] if argv is None else argv))
    return subprocess.call([sys.executable, "-m", "pytest", *args])
