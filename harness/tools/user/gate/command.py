"""The gate's run: Claude Code and LiteLLM prepared, the suite once per LiteLLM version (and once
more for the checks that moved), the grid judged (see the package's docstring); its options are in
``options.py``, what it writes and tells in ``report.py``."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from harness.claude_code import EXTRA_PROFILES_ENV, load_profiles, profile_dirs
from harness.claude_code.cli import install
from harness.errors import HarnessError
from harness.tools import envs as matrix
from harness.tools import registry as npm_registry
from harness.tools import runstore, supplychain
from harness.tools.perf import bench
from harness.tools.user.capture import capture
from harness.tools.user.gate import bisecting, grid
from harness.tools.user.gate.grid import Pair
from harness.tools.user.gate.kept import gathered, keep_runs, say
from harness.tools.user.gate.options import NEWEST, NEWEST_PATCH, Options
from harness.tools.user.gate.report import (
    attach_repros,
    candidate_answer,
    print_verdict,
    profile_diffs,
    write,
)
from harness.verdict import deviations
from harness.verdict.classes import CheckVerdict
from harness.verdict.runs import compare, load_run


def prepare_claude_code(
    versions: list[str], min_age_days: float, captured: Path
) -> dict[str, dict[str, Any]]:
    """Each version old enough, installed, and profiled (captured now into ``captured`` if it has no
    profile)."""
    times = npm_registry.publish_times() if min_age_days > 0 else {}
    known = {p["version"] for p in load_profiles()}
    out: dict[str, dict[str, Any]] = {}
    for version in versions:
        age = npm_registry.refuse_if_too_new(version, min_age_days, times) if times else None
        got = install(version)
        entry: dict[str, Any] = {
            "age_days": None if age is None else round(age, 1),
            "installed": "cached" if not got.install_seconds else f"{got.install_seconds:.0f} s",
        }
        if version in known:
            entry["profile"] = "on file"
        else:
            started = time.monotonic()
            path, _ = capture(version, captured)
            entry["profile"] = f"captured by this gate run in {time.monotonic() - started:.0f} s"
            entry["profile_path"] = str(path)
            say(f"Claude Code {version}: no profile on file, {entry['profile']} -> {path}")
        out[version] = entry
    return out


def prepare_litellm(
    versions: list[str],
) -> tuple[list[str], dict[str, matrix.Environment], dict[str, Any]]:
    """Every version's guarded environment; ``newest`` becomes the newest release that installs."""
    resolved, envs, facts = [], {}, {}
    line = next((".".join(v.split(".")[:2]) + "." for v in versions if v[:1].isdigit()), "")
    for asked in versions:
        passed_over: list[str] = []
        if asked in (NEWEST, NEWEST_PATCH):
            candidates = matrix.index_versions()
            if asked == NEWEST_PATCH:
                candidates = [v for v in candidates if line and v.startswith(line)]
                if not candidates:
                    raise HarnessError(
                        f"{NEWEST_PATCH}: no release of the line {line}x on the index"
                    )
            newest = matrix.newest_installable(candidates)
            env, passed_over = newest.environment, newest.passed_over
        else:
            env = matrix.gateway_environment(asked) or matrix.environment(asked)
        resolved.append(env.version)
        envs[env.version] = env
        facts[env.version] = {
            "asked": asked,
            "built_seconds": round(env.built_seconds, 1),
            **env.install_record,
            "passed_over": passed_over,
            "files": env.installed_files,
        }
        say(
            f"{named(env.version)} ({asked}): {env.method}, "
            + (f"built in {env.built_seconds:.0f} s" if env.built_seconds else "cached")
            + f", {len(env.installed_files)} files installed by hash"
        )
    return resolved, envs, facts


def named(version: str) -> str:
    """How the gate names a column: "LiteLLM 1.108.7", or a driver's "portkey@1.15.2"."""
    return version if "@" in version else f"LiteLLM {version}"


def run(options: Options) -> int:
    out = options.output_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for version in options.litellm:  # before anything is installed, Claude Code included
        if version not in (NEWEST, NEWEST_PATCH) and "@" not in version:
            supplychain.refuse_compromised("litellm", version)
    with _profiles_in(out / "profiles"):
        return _gate(options, out)


@contextlib.contextmanager
def _profiles_in(captured: Path) -> Iterator[None]:
    """Profiles captured by this gate are read as well as the repository's, for as long as the gate
    runs."""
    before = os.environ.get(EXTRA_PROFILES_ENV)
    os.environ[EXTRA_PROFILES_ENV] = str(captured)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(EXTRA_PROFILES_ENV, None)
        else:
            os.environ[EXTRA_PROFILES_ENV] = before


def _gate(options: Options, out: Path) -> int:
    started = time.monotonic()
    if options.judge:
        runs, litellm, installs, walls = gathered(options.judge)
        claude_code: dict[str, dict[str, Any]] = {
            v: {"profile": "judged from kept runs"} for v in options.claude_code
        }
        names = {v: v for v in litellm}
        reruns: dict[str, dict[str, Any]] = {}
    else:
        claude_code = prepare_claude_code(
            options.claude_code, options.min_age_days, out / "profiles"
        )
        litellm, envs, installs = prepare_litellm(options.litellm)
        names = dict(zip(options.litellm, litellm, strict=True))
    baseline = _pair(options.baseline, litellm, options.claude_code, names, first=True)
    candidate = _pair(options.candidate, litellm, options.claude_code, names, first=False)
    rules = grid.Rules(options.fail_on_should, options.changes, deviations.waivers(options.waivers))
    if not options.judge:
        runs, walls = run_versions(options, envs, out, baseline.litellm)
        if options.runs_only:
            return keep_runs(out, runs, walls, installs, runstore.selection(suite_args(options)))
        reruns = rerun_moved(options, envs, out, runs, baseline, rules) if options.rerun else {}
    data, cells = grid.build(runs, litellm, options.claude_code, baseline, candidate, rules, reruns)
    bisecting.offer(data, baseline)
    data["answer"] = candidate_answer(runs, baseline, candidate)
    if options.bisect and not options.judge:
        bisecting.run_for_blocking(
            data, baseline, out / "bisect", suite_args(options), options.store
        )
    attach_repros(out, runs, data)
    data.update(
        claude_code_facts=claude_code,
        installs=installs,
        suite_seconds=walls,
        bench={v: r["bench"] for v, r in runs.items() if "bench" in r},
        profile_diffs=profile_diffs(
            options.claude_code, baseline.claude_code, candidate.claude_code
        ),
        judged_from=[str(p) for p in options.judge],
    )
    code = grid.gate_code(data)
    data.update(
        exit_code=code,
        fail_on_should=options.fail_on_should,
        changes=options.changes,
        wall_seconds=round(time.monotonic() - started, 1),
        min_age_days=options.min_age_days,
    )
    write(out, data, cells, baseline)
    print_verdict(data)
    return code


def run_versions(
    options: Options, envs: dict[str, matrix.Environment], out: Path, baseline: str
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """The suite once per LiteLLM version, every Claude Code column's checks in it; then its
    benchmark.

    The baseline version's run is reused when one is given (``--baseline-run``) or stored under a
    key that matches (harness.tools.runstore): a gate of one candidate then costs one suite run.
    """
    session = f"gate {time.strftime('%Y-%m-%dT%H:%M:%S')}"
    args = suite_args(options)
    runs, walls = {}, {}
    against: list[str] = []
    for version in sorted(
        envs, key=lambda v: v != baseline
    ):  # the baseline first: the others rerun against it
        env = envs[version]
        key = runstore.key(version, args)
        reused = _reusable(options, version, baseline, key)
        if reused is not None:
            runs[version], walls[version] = reused, 0.0
            say(
                f"{named(version)}: the baseline's run reused "
                f"({reused['info'].get('reused_from')}), no suite run"
            )
        else:
            report, wall, code = matrix.run_suite(
                env, out / "runs" / version, [*args, *against], _profile_env()
            )
            runs[version], walls[version] = load_run(report), round(wall, 1)
            runstore.store(options.store, key, runs[version])
            say(
                f"{named(version)}: suite {wall:.0f} s (pytest exit {code}), "
                "every Claude Code column in one run"
            )
        if version == baseline and options.rerun:
            # A check that moved against the baseline runs twice in its own session, on the proxies
            # it has.
            (out / "runs").mkdir(parents=True, exist_ok=True)
            (out / "runs" / "baseline-run.json").write_text(json.dumps(runs[version]))
            against = ["--rerun-against", str(out / "runs" / "baseline-run.json")]
        if options.bench_repeats and env.gateway == "litellm":  # the bench drives LiteLLM only
            benchmark(runs[version], env, options.bench_repeats, session)
    return runs, walls


def benchmark(run: dict[str, Any], env: matrix.Environment, repeats: int, session: str) -> None:
    """The version's benchmark into its run. A benchmark that breaks is reported, and the suite's
    run is kept: an info-level measurement must not cost the verdict (a matrix job's run once was
    lost that way). A lost connection is the harness's accident and is retried once in place (issue
    38: a loaded machine once gave "ReadError: [Errno 9] Bad file descriptor")."""
    for attempt in (1, 2):
        try:
            # One session for every version: compare judges overhead only between figures taken side
            # by side.
            run["bench"] = bench.run(str(env.python), repeats, session)
            break
        except (httpx.TransportError, OSError) as exc:
            if attempt == 1:
                say(
                    f"LiteLLM {env.version}: the benchmark lost a connection "
                    f"({type(exc).__name__}: {exc}); once more"
                )
                continue
            run["bench_error"] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # whatever broke, the run it follows is worth keeping
            run["bench_error"] = f"{type(exc).__name__}: {exc}"
        say(
            f"LiteLLM {env.version}: the benchmark failed ({run['bench_error']}); "
            "the suite's run is kept without it"
        )
        return
    say(
        f"LiteLLM {env.version}: benchmark in {run['bench']['wall_seconds']:.0f} s\n"
        + bench.table(run["bench"])
    )


def suite_args(options: Options) -> list[str]:
    """The arguments of every version's suite run (the baseline's, then --rerun-against for the
    others)."""
    # A check that moves against its deviations entry runs twice in its own session, on the worker
    # and proxies it already has; rerun_moved then runs only what moved against the baseline and did
    # not.
    return [*_selection(options), *([] if options.rerun else ["--no-rerun"]), *options.pytest_args]


def _selection(options: Options) -> list[str]:
    """Every Claude Code column's checks in one run."""
    return [a for v in options.claude_code for a in ("--claude-code", v)]


def _profile_env() -> dict[str, str]:
    return {EXTRA_PROFILES_ENV: os.pathsep.join(map(str, profile_dirs()[1:]))}


def _reusable(options: Options, version: str, baseline: str, key: str) -> dict[str, Any] | None:
    if version != baseline:
        return None
    if options.baseline_run is not None:
        return runstore.given(options.baseline_run, version)
    return runstore.find(options.store, key)


def rerun_moved(
    options: Options,
    envs: dict[str, matrix.Environment],
    out: Path,
    runs: dict[str, dict[str, Any]],
    baseline: grid.Pair,
    rules: grid.Rules,
) -> dict[str, dict[str, Any]]:
    """Every check that moved against the baseline, run once more per LiteLLM version: no verdict
    from a flake."""
    base = grid.cell_run(runs[baseline.litellm], baseline.claude_code)
    reruns = {}
    for version, run in runs.items():
        if version == baseline.litellm:
            continue
        twice = {r["nodeid"] for r in run["results"] if r.get("ran_twice") or r.get("flaky")}
        moved = [
            n
            for n in rerunnable(compare(base, run, rules.waivers).verdict.checks)
            if n not in twice
        ]
        if not moved:
            say(f"{named(version)}: every check that moved ran twice in its own session already")
            continue
        args = [*_selection(options), "--no-rerun", *options.pytest_args, *moved]
        try:
            report, wall, _ = matrix.run_suite(
                envs[version], out / "reruns" / version, args, _profile_env()
            )
        except HarnessError as first:
            # Seen once: a narrowed run on workers that ran nothing (pytest exit 5). One process
            # instead.
            say(
                f"{named(version)}: the second run did not complete on workers "
                f"({str(first).splitlines()[0]}); "
                "again in one process"
            )
            report, wall, _ = matrix.run_suite(
                envs[version], out / "reruns" / version, [*args, "-n", "0"], _profile_env()
            )
        reruns[version] = load_run(report)
        say(f"{named(version)}: {len(moved)} moved check(s) run once more in {wall:.0f} s")
    return reruns


def rerunnable(checks: list[CheckVerdict]) -> list[str]:
    """The moved checks a second run can repeat: the suite's own, not a verdict on the benchmark
    (``bench::overhead``), which pytest would take for a missing file."""
    return sorted(
        {
            c.nodeid
            for c in checks
            if c.klass != "same" and c.nodeid.startswith("suites/") and "::" in c.nodeid
        }
    )


def _pair(
    text: str | None, litellm: list[str], claude_code: list[str], names: dict[str, str], first: bool
) -> Pair:
    if text is None:
        return Pair(litellm[0 if first else -1], claude_code[0 if first else -1])
    left, sep, right = text.partition("/")
    return Pair.parse(f"{names.get(left, left)}{sep}{right}", litellm, claude_code)
