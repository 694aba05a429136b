"""The timing table is generated from measured figures, and the CPU watcher attributes a run's CPU
by kind."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.tools.cli import main
from harness.tools.perf import timing
from harness.tools.perf.cpuwatch import CpuReport, run_watched

ROOT = Path(__file__).resolve().parents[1]


def test_readme_timing_block_is_generated_from_the_recorded_figures():
    assert main(["timing", "--check", str(ROOT / "README.md")]) == 0, (
        "python -m harness timing --write README.md after recording a benchmark"
    )


def test_a_recorded_row_replaces_the_previous_one_and_renders(tmp_path):
    path = tmp_path / "timings.json"
    timing.record("suite", {"wall_s": 500.0, "cpu_s": 1.0, "cores": 2}, path)
    timing.record(
        "suite",
        {
            "wall_s": 200.0,
            "cpu_s": 380.0,
            "cores": 2,
            "floor_ratio": 1.5,
            "harness_share": 0.1,
            "by_kind_s": {"litellm": 250.0, "harness-workers": 38.0},
        },
        path,
    )
    text = timing.block(timing.load(path))
    assert (
        "| `pytest suites/`, warm | ≤ 1.3 x the floor | **missed**: 1.50x against 1.30x | "
        "200 s (3.3 min) | "
        "380 CPU-s: litellm 250, harness-workers 38 | floor ratio 1.50; harness 10% of the CPU |"
        in text
    )
    assert "| `python3 dev.py all`, warm | ≤ 6 min | not measured yet |" in text


def test_each_budget_is_stated_met_or_missed_by_its_own_figure():
    assert timing.budget_kept("suite", {"floor_ratio": 1.29}) == "met"
    assert timing.budget_kept("ci-fresh", {"wall_s": 823.0}) == "**missed**: 823 s against 600 s"
    assert timing.budget_kept("gate-one-candidate", {"ratio_to_suite": 1.07}) == "met"
    assert timing.budget_kept("suite", {"wall_s": 100.0}) == "", (
        "no floor ratio measured: nothing to state"
    )


def test_the_floor_ratio_counts_only_the_system_under_tests_cpu():
    cpu = CpuReport(
        wall=150.0,
        total=400.0,
        by_kind={"litellm": 250.0, "claude-code": 50.0, "harness-workers": 90.0},
    )
    assert cpu.sut == 300.0
    assert cpu.floor_ratio(2) == 1.0
    assert cpu.unsampled == 10.0
    assert cpu.as_dict(2)["harness_share"] == round(90 / 400, 3)


def test_a_childs_cpu_is_sampled_and_the_total_is_the_kernels():
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.2: pass"
    spawn = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {busy!r}])"
    cpu, done = run_watched([sys.executable, "-c", spawn], cwd=ROOT)
    assert done.returncode == 0
    assert cpu.total >= 1.2
    assert sum(cpu.by_kind.values()) >= 0.5, (
        cpu.by_kind
    )  # the child lived long enough to be sampled


def test_a_process_is_classified_by_its_program_not_its_options_values():
    from harness.tools.perf.cpuwatch import kind_of_argv

    assert (
        kind_of_argv(
            [".venv/bin/python", "-m", "pytest", "suites", "--litellm-python", ".cache/litellm/x"]
        )
        == "harness-workers"
    )
    assert (
        kind_of_argv(["python", "-u", "/repo/harness/gateway/forkserver/zygote.py", "litellm", "s"])
        == "litellm"
    )
    assert kind_of_argv([".cache/litellm/1.0/bin/litellm", "--config", "c.yaml"]) == "litellm"
    assert (
        kind_of_argv(["node", "/repo/.cache/claude-code/2.1.332/cli.js"], "node") == "claude-code"
    )
    assert (
        kind_of_argv(
            ["/repo/.venv/bin/python", "-u", "-c", "import sys;exec(eval(sys.stdin.readline()))"]
        )
        == "harness-workers"
    )
    # A worker forked by the fork server keeps the server's command line, profile "workers".
    zygote = "/repo/harness/gateway/forkserver/zygote.py"
    assert kind_of_argv([".venv/bin/python", "-u", zygote, "workers", "s"]) == "harness-workers"


def _sampled_kind(monkeypatch, programs: list[tuple[list[str], str]]) -> str:
    """The kind a sampler ends with for a child process whose command line reads ``programs`` in
    turn."""
    import os
    import subprocess
    import sys

    from harness.tools.perf import cpuwatch

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        read = iter(programs)
        real = cpuwatch.program_of
        monkeypatch.setattr(
            cpuwatch, "program_of", lambda proc: next(read) if proc.pid == child.pid else real(proc)
        )
        sampler = cpuwatch.Sampler(root_pid=os.getpid())
        for _ in programs:
            sampler.sample()
        [kind] = [kind for (pid, _), (kind, _) in sampler.seen.items() if pid == child.pid]
        return kind
    finally:
        child.kill()
        child.wait()


WORKER = (["python", "-u", "-c", "import sys;exec(eval(sys.stdin.readline()))"], "python")


def test_a_process_is_classified_by_its_latest_program_and_keeps_it_when_it_exits(
    monkeypatch,
) -> None:
    """First seen between fork and exec it has its parent's command line; exiting, it has none."""
    assert (
        _sampled_kind(monkeypatch, [WORKER, (["node", "cli.js"], "node"), ([], "")])
        == "claude-code"
    )


def test_a_process_that_became_another_program_is_counted_as_that_program(monkeypatch) -> None:
    """A probe forked from a worker (``python -c ...``) is the probe's, not the worker's."""
    assert _sampled_kind(monkeypatch, [WORKER, (["python", "-c", "probe"], "python")]) == "other"
