"""Benign changes never alarm (issue 39, row 11): the reference gateway under each benign variation
(harness/gateway/reference/variations.py) passes every check it passes clean.

One suite session on two workers, each variation a copy of the modules that read answers, streams
and errors (the kill matrix's --kill-matrix-all). A check that fails here judges something no
client can observe; fix the check (or the fingerprint), not the variation. The whole suite under
every variation, on demand: the command in docs/kill-matrix.md#benign-variations.
"""

from __future__ import annotations

import json
from pathlib import Path

from suite_run import run_suite

from harness.gateway.reference.variations import BENIGN

MODULES = [
    "suites/test_pipe.py",
    "suites/test_stream.py",
    "suites/test_passthrough.py",
    "suites/test_errors.py",
    "suites/test_recorded.py",
    "suites/test_protocol.py",
    "suites/test_features.py",
    "suites/test_thinking.py",
    "suites/test_usage.py",
    "suites/test_route_fidelity.py",
]


def test_every_benign_variation_reads_safe(tmp_path: Path):
    sweep = [arg for name in sorted(BENIGN) for arg in ("--kill-matrix", name)]
    done = run_suite(
        *MODULES,
        "--gateway-impl",
        "reference",
        *sweep,
        "--kill-matrix-all",
        "-n",
        "2",
        "--report-dir",
        str(tmp_path),
        timeout=900,
    )
    results = json.loads((tmp_path / "compat.json").read_text())["results"]
    alarmed = [r["nodeid"] for r in results if r["outcome"] not in ("pass", "skipped")]
    assert alarmed == [], done.stdout[-4000:]
    varied = {r["nodeid"].split("@")[1].split("::")[0] for r in results if "@" in r["nodeid"]}
    assert varied == set(BENIGN), "a variation ran no check"
