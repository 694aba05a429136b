"""`python -m harness sweep --line`: a patch line's releases in version order, each suite run once
(stored runs reused), each release judged against the one before it, one page of requirements x
releases."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.tools import envs
from harness.tools.user import sweep
from harness.verdict.model import SCHEMA

REQS = [
    {
        "id": i,
        "area": i.split("-")[0],
        "level": "must",
        "statement": f"{i} holds.",
        "source": "s",
        "url": "u",
    }
    for i in ("AUTH-001", "ERR-001", "STREAM-001")
]
INDEX = ["1.109.0", "1.108.10", "1.108.9", "1.108.8", "1.108.7", "1.108.6", "1.107.3"]


def line_run(version: str, outcomes: dict[str, str]) -> dict:
    results = [
        {
            "nodeid": f"suites/t.py::test_{req}",
            "name": f"test_{req}",
            "requirement": req,
            "area": "A",
            "level": "must",
            "outcome": outcomes.get(req, "pass"),
            "duration": 0.1,
            "reason": "",
            "evidence": {},
            "observed": {},
        }
        for req in ("AUTH-001", "ERR-001", "STREAM-001")
    ]
    info = {
        "label": f"LiteLLM {version}",
        "litellm_version": version,
        "python_version": "3.11",
        "suite_revision": "x",
        "config_hash": "h",
        "started_at": "2026-12-04T00:00:00+00:00",
        "catalogue_revision": "c",
        "claude_code_profiles": [],
        "deviations_file": "",
    }
    return {"schema": SCHEMA, "info": info, "requirements": copy.deepcopy(REQS), "results": results}


# ERR-001 breaks in 1.108.8 and is fixed again in 1.108.10; STREAM-001 fails throughout.
LINE = {
    "1.108.7": {"STREAM-001": "fail"},
    "1.108.8": {"STREAM-001": "fail", "ERR-001": "fail"},
    "1.108.9": {"STREAM-001": "fail", "ERR-001": "fail"},
    "1.108.10": {"STREAM-001": "fail"},
}


def test_a_lines_releases_from_the_given_one_in_version_order():
    assert sweep.releases("1.108", "1.108.7", INDEX) == [
        "1.108.7",
        "1.108.8",
        "1.108.9",
        "1.108.10",
    ]
    assert sweep.releases("1.108", None, INDEX)[0] == "1.108.6"
    with pytest.raises(HarnessError, match=r"1\.111"):
        sweep.releases("1.111", None, INDEX)
    with pytest.raises(
        HarnessError, match=r"--from 1\.107\.3: not a release of the line 1\.108\.x"
    ):
        sweep.releases("1.108", "1.107.3", INDEX)
    assert sweep.releases("1.108", "1.108.10", INDEX) == ["1.108.10"], (
        "the newest alone is a sweep of one"
    )


def test_each_release_is_judged_against_the_one_before_it():
    data = sweep.page_data({v: line_run(v, o) for v, o in LINE.items()}, {})
    assert data["cells"]["ERR-001@1.108.8"]["class"] == "regressed"
    assert data["cells"]["ERR-001@1.108.9"]["class"] == "same"
    assert data["cells"]["ERR-001@1.108.10"]["class"] == "fixed"
    assert data["cells"]["STREAM-001@1.108.8"]["class"] == "same"
    assert next(r["id"] for r in data["rows"]) == "ERR-001", "requirements that moved come first"
    assert [c["classes"] for c in data["columns"][1:]] == [{"regressed": 1}, {}, {"fixed": 1}]


def _stub(monkeypatch, tmp_path: Path, ran: list[str]) -> None:
    monkeypatch.setattr(envs, "index_versions", lambda pre=False: INDEX)
    monkeypatch.setattr(
        envs,
        "environment",
        lambda v: envs.Environment(v, tmp_path / "envs" / v / "bin/python", 0.0, "litellm[proxy]"),
    )

    def fake_suite(env, out_dir: Path, extra: list[str], variables=None):
        ran.append(env.version)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "compat.json").write_text(json.dumps(line_run(env.version, LINE[env.version])))
        return out_dir / "compat.json", 1.0, 1

    monkeypatch.setattr(envs, "run_suite", fake_suite)


def test_a_sweep_writes_its_page_and_a_second_sweep_reuses_every_stored_run(tmp_path, monkeypatch):
    ran: list[str] = []
    _stub(monkeypatch, tmp_path, ran)
    (tmp_path / "notes.yaml").write_text("1.108.10: 'Fix: ERR-001 answers 529 again'\n")
    options = sweep.Options(
        "1.108",
        "1.108.7",
        tmp_path / "out",
        ["2.1.332"],
        tmp_path / "notes.yaml",
        store=tmp_path / "store",
    )
    data = sweep.run(options)
    assert ran == ["1.108.7", "1.108.8", "1.108.9", "1.108.10"]
    assert data["columns"][-1]["notes"] == {"text": "Fix: ERR-001 answers 529 again"}
    page = (tmp_path / "out" / "sweep.html").read_text()
    assert 'data-release="1.108.10"' in page
    assert "Fix: ERR-001 answers 529 again" in page
    ran.clear()
    again = sweep.run(options)
    assert ran == []
    assert again["cells"] == data["cells"]
    assert {f["suite"] for f in again["facts"].values()} == {"reused"}
