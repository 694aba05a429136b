"""Impact, the level rule, causes, observed exposures and the answer told as problems
(docs/impact.md)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from harness.errors import HarnessError
from harness.tools.maintainer.deviations.accept import cause_problems
from harness.tools.maintainer.deviations.record import refresh, rewrite_causes
from harness.tools.pins import pinned_version
from harness.verdict.catalogue import CATALOGUE, catalogue, entries
from harness.verdict.deviations import DIRECTORY, Deviation, causes, load
from harness.verdict.impact import IMPACTS, LEVEL_OF, exposures, rule_breaks
from harness.verdict.problems import from_file, from_run

FP = {
    "outcome": "call failed: AssertionError",
    "client": ["POST /v1/messages -> 400 openai-error:no_db_connection"],
    "provider_calls": {"anthropic": []},
    "gateway_key_at_provider": False,
}
CAUSE = {
    "summary": "It looks a key up in a database it does not have.",
    "sees": "An API error, not /login.",
    "impact": "blocked",
    "routes": ["anthropic"],
    "modes": ["direct"],
    "upstream": "not reported",
}


def test_every_requirement_says_what_a_claude_code_user_meets():
    """Each requirement has an impact of the vocabulary and a sentence of its own."""
    for req in catalogue().values():
        assert req.impact in IMPACTS, req.id
        assert len(req.sees) > 20, req.id
    sentences = [r.sees for r in catalogue().values()]
    assert len(set(sentences)) == len(sentences), "a `sees` sentence is copied between requirements"


def test_every_level_follows_the_written_rule_or_records_why_not():
    assert rule_breaks(entries()) == []


def test_a_missing_impact_or_sentence_is_named(tmp_path):
    raw = yaml.safe_load(CATALOGUE.read_text())
    raw["requirements"][0].pop("sees")
    bad = tmp_path / "c.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(HarnessError, match=f"{raw['requirements'][0]['id']} needs an impact"):
        catalogue.__wrapped__(bad)


def test_a_level_against_the_rule_fails_unless_an_exception_says_why():
    entry = {"impact": "none-visible", "level": "must"}
    assert rule_breaks({"X-1": entry}) == [
        "X-1: impact none-visible makes it info, not must "
        "(re-level it, or give level_exception: the reason)"
    ]
    assert (
        rule_breaks(
            {"X-1": {**entry, "level_exception": "a provider refuses it the day it is sent"}}
        )
        == []
    )
    assert {LEVEL_OF[i] for i in ("exposure", "blocked", "cost")} == {"must"}


@pytest.mark.parametrize(
    ("requirement", "fingerprint", "seen"),
    [
        ("AUTH-003", FP, []),
        (
            "AUTH-003",
            {**FP, "gateway_key_at_provider": True},
            ["the gateway key reached a provider"],
        ),
        (
            "AUTH-003",
            {**FP, "provider_calls": {"anthropic": ["POST /v1/messages"]}},
            ["a request that must be refused reached a provider"],
        ),
        (
            "AUTH-003",
            {**FP, "client": ["POST /v1/messages -> 200 json:message"]},
            ["a request that must be refused was answered 2xx"],
        ),
        ("LOAD-002", {"declared": {"unlisted keys: outcomes": ["HTTP 500"]}}, []),
        (
            "LOAD-002",
            {"declared": {"unlisted keys: outcomes": ["HTTP 200"]}},
            ["a key the allowlist lacks was served"],
        ),
        (
            "AUTH-007",
            {"outcome": "call failed: AssertionError"},
            ["an error echoed the master key"],
        ),
        (
            "ERR-001",
            {"outcome": "call failed: AssertionError", "network_escape": ["10.0.0.1:443"]},
            ["a request left loopback"],
        ),
        ("ADMIN-001", {"declared": {"served without the master key": []}}, []),
        (
            "ADMIN-002",
            {"declared": {"served without the master key": ["/model/info"]}},
            ["a management route or the MCP endpoint served a caller without the key"],
        ),
    ],
    ids=[
        "refused-in-the-wrong-shape",
        "key-at-provider",
        "refused-key-served-upstream",
        "refused-key-2xx",
        "unlisted-key-500",
        "unlisted-key-200",
        "echo",
        "escape",
        "admin-refused-wrongly",
        "admin-served",
    ],
)
def test_an_exposure_is_claimed_only_from_what_a_check_observed(requirement, fingerprint, seen):
    assert exposures(requirement, fingerprint) == seen


def _deviations_file(tmp_path, entries_: list[dict], table: dict) -> object:
    path = tmp_path / "litellm-9.9.9.yaml"
    path.write_text(
        "# a test file\n"
        + yaml.safe_dump({"litellm": "9.9.9", "causes": table, "deviations": entries_})
    )
    return path


def test_the_lint_wants_a_cause_for_every_entry_and_an_entry_for_every_cause(tmp_path):
    entries_ = [
        {"check": "t.py::a", "requirement": "AUTH-003", "observed": "o", "fingerprint": FP},
        {
            "check": "t.py::b",
            "requirement": "AUTH-003",
            "observed": "o",
            "cause": "nowhere",
            "fingerprint": FP,
        },
    ]
    path = _deviations_file(tmp_path, entries_, {"no-db": CAUSE})
    found = cause_problems(path, {"t.py::a": "AUTH-003", "t.py::b": "AUTH-003"}, {})
    assert found == [
        "t.py::a: no cause (name an entry of the file's causes: table)",
        "t.py::b: cause 'nowhere' is not in the file's causes: table",
        "cause no-db: no deviation names it (remove it, or the entries lost their cause)",
    ]


def test_the_lint_refuses_an_exposure_no_fingerprint_shows_and_an_unproven_mitigation(tmp_path):
    table = {
        "no-db": {
            **CAUSE,
            "impact": "exposure",
            "mitigation": {
                "setting": "num_retries: 0",
                "kind": "litellm-setting",
                "proof": "profile:x",
            },
        }
    }
    entry = {
        "check": "t.py::a",
        "requirement": "AUTH-003",
        "observed": "o",
        "cause": "no-db",
        "fingerprint": FP,
    }
    path = _deviations_file(tmp_path, [entry], table)
    found = cause_problems(path, {"t.py::a": "AUTH-003"}, {})
    assert found == [
        "cause no-db: impact exposure, but no fingerprint of its checks shows one "
        "(an exposure is claimed only when observed)",
        "cause no-db: its proof names profile 'x', which has no deviations file "
        "litellm-9.9.9.x.yaml",
    ]


def test_a_profile_proves_a_mitigation_only_for_checks_it_runs_and_passes(tmp_path):
    table = {
        "no-db": {
            **CAUSE,
            "mitigation": {"setting": "s", "kind": "litellm-setting", "proof": "profile:x"},
        }
    }
    entries_ = [
        {
            "check": f"t.py::{n}",
            "requirement": "AUTH-003",
            "observed": "o",
            "cause": "no-db",
            "fingerprint": FP,
        }
        for n in "abc"
    ]
    path = _deviations_file(tmp_path, entries_, table)
    (tmp_path / "litellm-9.9.9.x.yaml").write_text(yaml.safe_dump({"deviations": [entries_[1]]}))
    found = cause_problems(
        path, {f"t.py::{n}": "AUTH-003" for n in "abc"}, {"t.py::a": "", "t.py::b": ""}
    )
    assert found == [
        "cause no-db: its proof: t.py::c does not run under x (not settings-sensitive)",
        "cause no-db: its proof: t.py::b still fails under x (litellm-9.9.9.x.yaml lists it)",
    ]


def test_record_carries_a_cause_only_where_the_fingerprint_did_not_move():
    # ERR-001, not a security requirement: a security change is never re-recorded at all.
    existing = [
        Deviation("t.py::same", "ERR-001", "o", FP, "no-db"),
        Deviation("t.py::moved", "ERR-001", "o", FP, "no-db"),
    ]
    moved = {**FP, "client": ["POST /v1/messages -> 500 text/plain"]}
    run = {
        "results": [
            {
                "nodeid": f"suites/t.py::{n}",
                "requirement": "ERR-001",
                "outcome": "fail",
                "fingerprint": fp,
                "evidence": {},
            }
            for n, fp in (("same", FP), ("moved", moved))
        ]
    }
    by_check = {e["check"]: e for e in refresh(existing, [run]).entries}
    assert by_check["t.py::same"]["cause"] == "no-db"
    assert "cause" not in by_check["t.py::moved"]


def test_rewriting_the_causes_keeps_the_entries_and_the_comments(tmp_path):
    entry = {
        "check": "t.py::a",
        "requirement": "AUTH-003",
        "observed": "o",
        "cause": "no-db",
        "fingerprint": FP,
    }
    path = _deviations_file(tmp_path, [entry], {"no-db": CAUSE})
    rewrite_causes(path, {"no-db": {**CAUSE, "witness": {"printed": "API Error: 400"}}})
    assert path.read_text().startswith("# a test file\n")
    assert load(path) == [Deviation("t.py::a", "AUTH-003", "o")]
    assert causes(path)["no-db"].witness.printed == "API Error: 400"


def test_the_recorded_files_explain_every_deviation_by_a_cause():
    """Every entry has a cause, every cause its sentences, routes and upstream; three mitigations,
    five witnesses."""
    for path in sorted(DIRECTORY.glob("*.yaml")):
        table = causes(path)
        assert all(d.cause in table for d in load(path)), path.name
    pinned = causes(DIRECTORY / f"litellm-{pinned_version()}.yaml")
    assert sum(c.mitigation is not None for c in pinned.values()) >= 3
    assert sum(c.witness is not None and bool(c.witness.printed) for c in pinned.values()) >= 5


def test_the_answer_leads_with_problems_counted_once_per_cause(capsys):
    from harness.tools.cli import main

    assert main(["answer", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert re.fullmatch(
        r"LiteLLM [\d.]+ with Claude Code [\d.]+ on LiteLLM's defaults: "
        r"\d+ problems? a Claude Code user will meet.*",
        data["headline"],
    )
    causes_ = [p["cause"] for p in data["problems"]]
    assert len(causes_) == len(set(causes_))
    ranks = [IMPACTS.index(p["impact"]) for p in data["problems"]]
    assert ranks == sorted(ranks), "worst impact first"
    assert {r["state"].split(" ")[0] for r in data["routes"]} <= {"works", "broken"}
    assert data["unexplained"] == []
    assert set(data["security"]) == {"requirements_failing", "exposures_observed"}


def test_a_run_is_told_through_the_causes_and_an_unknown_failure_is_unexplained():
    path = DIRECTORY / f"litellm-{pinned_version()}.yaml"
    first = load(path)[0]
    run = {
        "info": {
            "label": "LiteLLM 9",
            "deviations_file": path.name,
            "started_at": "2026-12-06T00:00:00",
        },
        "results": [
            {
                "nodeid": f"suites/{first.check}",
                "requirement": first.requirement,
                "outcome": "fail",
                "fingerprint": first.fingerprint,
            },
            {
                "nodeid": "suites/test_x.py::test_new",
                "requirement": "PIPE-001",
                "outcome": "fail",
                "fingerprint": {},
            },
        ],
    }
    told = from_run(run, None, "2.1.332")
    assert [p.cause.id for p in told.problems] == [first.cause]
    assert [f.check for f in told.unexplained] == ["test_x.py::test_new"]
    assert "1 failing check(s) without a known cause" in told.headline()


def test_the_answer_for_one_claude_code_version_leaves_out_the_checks_of_others(tmp_path):
    entries_ = [
        {
            "check": f"t.py::x[{v}]",
            "requirement": "ROUTE-008",
            "observed": "o",
            "cause": "no-db",
            "fingerprint": FP,
        }
        for v in ("cc-1.0.128-bedrock", "cc-2.1.332-bedrock", "every-version")
    ]
    path = _deviations_file(tmp_path, entries_, {"no-db": CAUSE})
    told = from_file(path, "LiteLLM 9", "2.1.332")
    assert [f.check for f in told.failing] == [
        "t.py::x[cc-2.1.332-bedrock]",
        "t.py::x[every-version]",
    ]
