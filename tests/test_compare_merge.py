"""compare and merge work on JSON runs, and bad runs get a clear error naming the file."""

from __future__ import annotations

import copy
import json

import pytest

from harness.report.render import render_html
from harness.tools.cli import main
from harness.verdict.model import SCHEMA
from harness.verdict.runs import compare, load_run

REQS = [
    {
        "id": i,
        "area": i.split("-")[0],
        "level": lvl,
        "statement": f"{i} holds.",
        "source": "s",
        "url": "u",
    }
    for i, lvl in (
        ("AUTH-001", "must"),
        ("ERR-001", "must"),
        ("ERR-002", "should"),
        ("NEW-001", "must"),
    )
]


def run(label: str, outcomes: dict[str, str], reqs=REQS) -> dict:
    results = [
        {
            "nodeid": f"suites/t.py::test_{rid}",
            "name": f"test_{rid}",
            "requirement": rid,
            "area": "A",
            "level": next(r["level"] for r in reqs if r["id"] == rid),
            "outcome": o,
            "duration": 0.1,
            "reason": "",
            "evidence": {},
            "observed": {},
        }
        for rid, o in outcomes.items()
    ]
    info = {
        "label": label,
        "litellm_version": label,
        "python_version": "3.11",
        "suite_revision": "x",
        "config_hash": "h",
        "started_at": "2026-11-25T12:00:00+00:00",
        "catalogue_revision": "c",
        "claude_code_profiles": [],
        "deviations_file": "",
    }
    return {"schema": SCHEMA, "info": info, "requirements": reqs, "results": results}


BASE = run("LiteLLM 1.0", {"AUTH-001": "pass", "ERR-001": "deviation", "ERR-002": "pass"})


def write(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_compare_finds_regressions_and_fixes():
    cand = run("LiteLLM 2.0", {"AUTH-001": "fail", "ERR-001": "pass", "ERR-002": "error"})
    result = compare(BASE, cand)
    assert [c.requirement["id"] for c in result.regressions] == ["AUTH-001", "ERR-002"]
    assert [c.requirement["id"] for c in result.fixes] == ["ERR-001"]
    assert result.gate(fail_on_should=False) == 1


def test_should_regression_fails_only_when_asked():
    cand = run("LiteLLM 2.0", {"AUTH-001": "pass", "ERR-001": "deviation", "ERR-002": "fail"})
    assert compare(BASE, cand).gate(fail_on_should=False) == 0
    assert compare(BASE, cand).gate(fail_on_should=True) == 1


def test_compare_command_exits_0_on_itself_and_1_on_a_must_regression(tmp_path, capsys):
    base = write(tmp_path, "base.json", BASE)
    assert main(["compare", base, base]) == 0
    worse = write(
        tmp_path, "worse.json", run("LiteLLM 2.0", {"AUTH-001": "fail", "ERR-001": "deviation"})
    )
    assert main(["compare", base, worse]) == 1
    out = capsys.readouterr().out
    assert "AUTH-001" in out
    assert "NOT SAFE  (1 regressed" in out
    assert "exit 1" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema": "cc-gateway-conformance/run/1", "info": {', "corrupt or truncated"),
        ("[]", "not a run of this suite"),
        (json.dumps({"schema": SCHEMA, "info": {}}), "has no 'requirements'"),
    ],
    ids=["truncated", "not-a-run", "missing-key"],
)
def test_bad_run_is_named_without_traceback(tmp_path, capsys, content, message):
    bad = write(tmp_path, "bad.json", content)
    assert main(["compare", bad, bad]) == 2
    err = capsys.readouterr().err
    assert bad in err
    assert message in err
    assert "Traceback" not in err


def test_missing_file_is_named(tmp_path, capsys):
    assert main(["merge", str(tmp_path / "nope.json"), "-o", str(tmp_path / "m.html")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_merge_of_runs_from_different_catalogues_marks_missing_rows_not_covered(tmp_path):
    old_reqs = [r for r in REQS if r["id"] != "NEW-001"]
    old = run("LiteLLM 1.0", {"AUTH-001": "pass"}, reqs=old_reqs)
    new = run("LiteLLM 2.0", {"AUTH-001": "pass", "NEW-001": "pass"})
    out = tmp_path / "m.html"
    assert (
        main(
            [
                "merge",
                write(tmp_path, "a.json", old),
                write(tmp_path, "b.json", new),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    html = out.read_text()
    row = html[html.index('data-req="NEW-001"') :]
    row = row[: row.index("</tr>")]
    assert row.count('class="cell not-covered"') == 1
    assert row.count('class="cell pass"') == 1


def test_html_marks_rows_that_differ_and_gives_a_verdict():
    cand = copy.deepcopy(BASE)
    cand["info"]["label"] = "LiteLLM 2.0"
    cand["results"][0]["outcome"] = "fail"
    html = render_html([BASE, cand])
    assert html.count('class="req differs"') == 1
    assert "LiteLLM 2.0: NOT SAFE (1 regressed" in html
    assert "regressed   AUTH-001" in html
    same = render_html([BASE, BASE])
    assert "NOT SAFE" not in same
    assert "vs LiteLLM 1.0: 3 same" in same


def test_load_run_reads_what_the_suite_writes(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(BASE))
    assert load_run(path)["info"]["label"] == "LiteLLM 1.0"


def test_matrix_refuses_a_malformed_version(capsys):
    assert main(["matrix", "--litellm", "latest"]) == 2
    assert "'latest' is not a LiteLLM version number" in capsys.readouterr().err


def test_unknown_version_is_explained():
    import subprocess

    from harness.errors import HarnessError
    from harness.tools.envs import _raise_if_unknown

    done = subprocess.CompletedProcess(
        [], 1, "", "ERROR: No matching distribution found for litellm==9.9.9"
    )
    with pytest.raises(
        HarnessError, match=r"LiteLLM 9\.9\.9 is not a release on the package index"
    ):
        _raise_if_unknown("9.9.9", done)


def test_failed_install_names_the_version_and_shows_the_installer_tail(tmp_path, monkeypatch):
    from harness.errors import HarnessError
    from harness.tools import envs as matrix

    def failing(requirements, dest):
        raise HarnessError("ERROR: ResolutionImpossible: pydantic<2 vs >=2")

    monkeypatch.setattr(
        matrix,
        "_create",
        lambda env_dir: (env_dir / "lib/python3.11/site-packages").mkdir(parents=True),
    )
    monkeypatch.setattr(matrix.supplychain, "download_wheels", failing)
    monkeypatch.setattr(
        matrix, "proxy_requirements", lambda version, dropped=None: ["litellm==" + version]
    )
    with pytest.raises(HarnessError) as info:
        matrix.environment("1.2.3", cache=tmp_path)
    assert "installing LiteLLM 1.2.3" in str(info.value)
    assert "ResolutionImpossible" in str(info.value)
    assert not (tmp_path / "1.2.3").exists(), "a half-built environment is removed"
