"""The benchmark's arithmetic, its charts and the overhead gate, on figures made up in the test.

Nothing here times anything: performance is measured by ``python -m harness bench``, never asserted.
"""

from __future__ import annotations

import copy
import re

from harness.report.render import render_html
from harness.tools.perf import bench
from harness.tools.perf.bench.measure import Sample, percentile, quantiles_ms
from harness.verdict.model import SCHEMA
from harness.verdict.runs import compare

REQS = [
    {"id": "AUTH-001", "area": "AUTH", "level": "must", "statement": "s", "source": "s", "url": "u"}
]


def make_run(label: str) -> dict:
    info = {
        "label": label,
        "litellm_version": label,
        "python_version": "3.11",
        "suite_revision": "x",
        "config_hash": "h",
        "started_at": "2026-11-26T00:00:00+00:00",
        "catalogue_revision": "c",
        "claude_code_profiles": [],
        "deviations_file": "",
    }
    result = {
        "nodeid": "t::test_a",
        "name": "test_a",
        "requirement": "AUTH-001",
        "area": "AUTH",
        "level": "must",
        "outcome": "pass",
        "duration": 0.1,
        "reason": "",
        "evidence": {},
        "observed": {},
    }
    return {"schema": SCHEMA, "info": info, "requirements": REQS, "results": [result]}


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 90), percentile(values, 99)) == (
        50.0,
        90.0,
        99.0,
    )
    assert quantiles_ms([0.001, 0.002, 0.003]) == {"p50": 2.0, "p90": 3.0, "p99": 3.0}


def _samples(total: float, first: float, gap: float) -> list[Sample]:
    return [
        Sample(0.0, 200, first, total, [first + gap * k for k in range(5)], 1.5) for _ in range(10)
    ]


def _level(added: float) -> dict:
    js = {
        "direct": _samples(0.002, 0.002, 0.0),
        "gateway": _samples(0.002 + added, 0.002 + added, 0.0),
    }
    st = {
        "direct": _samples(0.1, 0.002, 0.02),
        "gateway": _samples(0.1 + added, 0.002 + added, 0.021),
    }
    return bench._one_level(js, st)


def figures(added_ms: float, session: str = "s1") -> dict:
    repeats = [{"1": _level(added_ms / 1000), "8": _level(added_ms / 1000)} for _ in range(3)]
    return {
        "litellm_version": "9.9.9",
        "session": session,
        "config": "c",
        "repeats": 3,
        "events_per_stream": 5,
        "event_gap_ms": 20.0,
        "concurrency": bench._aggregate(repeats),
        "repeats_raw": repeats,
        "throughput_rps": {"direct": 900.0, "gateway": 120.0, "concurrency": 64, "requests": 256},
        "proxy": {"cpu_ms_per_request": 3.2, "rss_mb": 410.0},
        "paced_stream": [[0.0, 5.0], [20.0, 26.0]],
        "wall_seconds": 50.0,
    }


def test_one_level_separates_added_latency_and_per_event_delay():
    level = _level(0.010)
    assert level["json"]["p50"]["added_ms"] == 10.0
    assert level["stream_ttfb"]["p99"]["added_ms"] == 10.0
    assert level["per_event_added_ms"] == 1.0, (
        "21 ms between events through the gateway against 20 direct"
    )
    assert level["litellm_overhead_header_ms"] == 1.5
    assert level["json"]["ratio_p50"] == 6.0


def test_repeats_are_reported_with_their_spread():
    repeats = [{"1": _level(a / 1000)} for a in (8.0, 10.0, 13.0)]
    spread = bench._aggregate(repeats)["1"]["json"]["p50"]["added_ms"]
    assert spread == {"median": 10.0, "min": 8.0, "max": 13.0}


def _with_bench(label: str, figures_: dict) -> dict:
    data = make_run(label)
    data["bench"] = figures_
    return data


def test_compare_flags_overhead_more_than_20_percent_worse_as_a_should_regression():
    base, worse = _with_bench("base", figures(10.0)), _with_bench("cand", figures(12.5))
    result = compare(base, worse)
    (change,) = result.regressions
    assert change.requirement["id"] == "PERF-OVERHEAD"
    assert change.requirement["level"] == "should"
    assert any("json p50 at concurrency 1: 10.0 ms -> 12.5 ms" in d for d in change.detail)
    assert result.gate(fail_on_should=False) == 0
    assert result.gate(fail_on_should=True) == 1


def test_overhead_within_20_percent_or_under_a_millisecond_is_not_a_regression():
    assert (
        compare(_with_bench("b", figures(10.0)), _with_bench("c", figures(11.9))).regressions == []
    )
    assert compare(_with_bench("b", figures(0.3)), _with_bench("c", figures(0.9))).regressions == []


def test_overhead_from_different_sessions_is_not_compared():
    base, worse = _with_bench("base", figures(10.0, "s1")), _with_bench("cand", figures(50.0, "s2"))
    assert compare(base, worse).regressions == []


def test_the_report_draws_both_charts_inline_and_the_table():
    base, worse = (
        _with_bench("base", figures(10.0)),
        _with_bench("cand", copy.deepcopy(figures(12.5))),
    )
    worse["info"]["litellm_version"] = "9.9.10"
    html = render_html([base, worse])
    assert html.count('aria-label="added latency against concurrency"') == 2
    assert html.count('aria-label="arrival against emission"') >= 2
    assert "json p50 at concurrency 1: 10.0 ms -&gt; 12.5 ms" in html
    assert "x-litellm-overhead-duration-ms 1.5" in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html), (
        "no external assets"
    )
