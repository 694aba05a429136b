"""--rerun-against: a check that moved against another run's outcome runs twice in its own
session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = "suites/test_auth.py::test_master_key_is_accepted_as_bearer[messages]"


def _run(tmp_path: Path, before: str) -> dict:
    against = tmp_path / f"against-{before}.json"
    against.write_text(json.dumps({"results": [{"nodeid": CHECK, "outcome": before}]}))
    out = tmp_path / before
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            CHECK,
            "--gateway-impl",
            "reference",
            "-n",
            "0",
            "-q",
            "-p",
            "no:cacheprovider",
            "--report-dir",
            str(out),
            "--rerun-against",
            str(against),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [result] = [
        r for r in json.loads((out / "compat.json").read_text())["results"] if r["nodeid"] == CHECK
    ]
    return result


def test_a_check_that_passes_where_the_other_run_failed_runs_twice(tmp_path):
    assert _run(tmp_path, "fail")["ran_twice"] is True


def test_a_check_that_passes_as_it_did_runs_once(tmp_path):
    assert _run(tmp_path, "pass")["ran_twice"] is False
