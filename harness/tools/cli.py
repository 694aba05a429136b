"""Command line of the harness.

python -m harness catalogue [--uncovered] [--check]  the requirements, their coverage, and their
                                                     killing faults
python -m harness compare BASE.json CANDIDATE.json   each check classed against the base; the
                                                     verdict's exit code
python -m harness merge A.json B.json ... -o out.html  one matrix, a column per run
python -m harness matrix --litellm 1.77.7 1.108.7    the suite against several LiteLLM versions
python -m harness gate --litellm A B newest --claude-code X Y [--baseline A/X]
                                                     the LiteLLM x Claude Code grid
python -m harness capture-claude-code --version 2.1.332   a Claude Code profile from the real CLI
python -m harness profile-diff 2.0.77 2.1.332       what changed between two Claude Code versions
python -m harness repro CHECK [--run RUN.json]       a self-contained folder that replays a failing
                                                     check
python -m harness bench [--litellm-python PY] [--attach RUN.json]   the gateway's added latency,
                                                     direct vs via
python -m harness install-claude-code                the CLI versions the e2e checks use, into
                                                     .cache/
python -m harness deviations record [--litellm-python PY]  (re)write a version's deviations,
                                                     fingerprints included
python -m harness deviations check [FILE ...]        every entry fingerprinted, matching one check,
                                                     listed once
python -m harness deviations accept --run RUN.json   rewrite only what moved (improved, fixed);
                                                     never security
python -m harness deviations lint [--run RUN.json]   entries matching nothing, stale entries,
                                                     expired waivers
python -m harness record --provider anthropic [--stand-in]  provider scenarios through LiteLLM into
                                                     cassettes/
python -m harness cassettes list|check|verify|diff   what is recorded; secrets, protocol, provider
                                                     drift
python -m harness controls [--narrow] [--level must] [--faults F ...]   the kill matrix:
                                                     requirements x faults
python -m harness timing [--write|--check README.md]   the README's timing table from
                                                     benchmarks/timings.json
python -m harness durations [--save]                 the order workers take the checks in; refresh
                                                     the seed
python -m harness bisect CHECK... --good V1 --bad V2  the first release that changed each check
python -m harness sweep --line 1.108 [--from 1.108.7]  the suite once per release of a patch line,
                                                     one page
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from harness.claude_code import PROFILES
from harness.claude_code.cli import install
from harness.errors import HarnessError
from harness.fakes.scenarios import SCENARIOS
from harness.gateway.process import resolve_python
from harness.gateway.reference.faults import kill_problems, kill_score
from harness.plugin.stash import SUITES_DIR
from harness.report.render import render_html
from harness.tools.envs import DEFAULT_VERSIONS, environment, run_suite
from harness.tools.maintainer import controls, rules_cli, witness
from harness.tools.maintainer.deviations import cli as deviations_cli
from harness.tools.maintainer.recording import cli as cassette_cli
from harness.tools.perf import bench, durations, timing
from harness.tools.user import answer as answer_cli
from harness.tools.user import gate, repro, sweep
from harness.tools.user.bisect import cli as bisect_cli
from harness.tools.user.capture import capture
from harness.tools.user.profile_diff import render as render_profile_diff
from harness.verdict.catalogue import catalogue
from harness.verdict.classes import SEVERITY
from harness.verdict.deviations import waivers as load_waivers
from harness.verdict.runs import compare, load_run

MARKER = re.compile(r"@pytest\.mark\.req\(\"([A-Z0-9-]+)\"\)")
# A feature row's requirement (suites/support/features.py): read as text, as the markers are.
FEATURE_ROW = re.compile(r"Feature\(\s*\"([A-Z0-9-]+)\"")


def coverage(suites: Path = SUITES_DIR) -> Counter[str]:
    """How many check functions state each requirement (parametrized cases count once).

    The replay checks take their requirement from each provider scenario, and the feature checks
    from each feature row (one per check function of suites/test_features.py), so those count too.
    """
    found = Counter(
        m for path in sorted(suites.glob("test_*.py")) for m in MARKER.findall(path.read_text())
    )
    per_row = len(re.findall(r"^def test_", (suites / "test_features.py").read_text(), re.M))
    return (
        found
        + Counter({s.requirement for s in SCENARIOS.values()})
        + Counter(
            {
                r: per_row
                for r in FEATURE_ROW.findall((suites / "support" / "features.py").read_text())
            }
        )
    )


def cmd_catalogue(args: argparse.Namespace) -> int:
    if args.check:
        return _check_kills()
    covered = coverage()
    rows = [r for r in catalogue().values() if not args.uncovered or r.id not in covered]
    for r in rows:
        mark = f"{covered[r.id]} check(s)" if r.id in covered else "NOT COVERED"
        print(f"{r.id:<11} {r.level:<6} {mark:<12} {r.statement}")
    missing = [r.id for r in catalogue().values() if r.id not in covered]
    print(
        f"\n{len(catalogue())} requirements, {len(missing)} not covered: "
        f"{', '.join(missing) or 'none'}"
    )
    return 0


def _check_kills() -> int:
    """Every requirement has a fault of the reference gateway that kills it, or the reason none
    can."""
    levels = {r.id: r.level for r in catalogue().values()}
    problems = kill_problems(levels)
    for level, s in sorted(kill_score(levels).items()):
        print(
            f"{level}: {s['killed']} of {s['requirements']} requirements proven to fail "
            f"on a fault, {s['unreachable']} named unreachable"
        )
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


def cmd_compare(args: argparse.Namespace) -> int:
    base, candidate = load_run(args.base), load_run(args.candidate)
    result = compare(
        base, candidate, load_waivers(args.waivers), load_run(args.rerun) if args.rerun else None
    )
    names = f"{base['info']['label']} -> {candidate['info']['label']}"
    code = result.gate(args.fail_on_should, args.changes)
    print(f"requirements by class ({names}), each the worst of its checks:")
    for klass in SEVERITY:
        if klass != "same" and (moved := result.of_class(klass)):
            print(f"{klass}: {len(moved)}")
            print("\n".join(c.line() for c in moved))
    print(f"same: {len(result.unchanged)}")
    print("\n".join(result.verdict.lines(top=20)))
    print(f"exit {code}")
    return code


def cmd_merge(args: argparse.Namespace) -> int:
    runs = [load_run(p) for p in args.runs]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_html(runs))
    print(f"wrote {args.output} ({len(runs)} runs, {args.output.stat().st_size // 1024} KiB)")
    return 0


def cmd_matrix(args: argparse.Namespace) -> int:
    out = args.output_dir
    reports = []
    for version in args.litellm:
        env = environment(version)
        built = (
            f"built in {env.built_seconds:.0f} s ({env.method})" if env.built_seconds else "cached"
        )
        report, wall, code = run_suite(env, out / version, args.pytest_args)
        # The supply-chain guard's record: every distribution file installed, by sha256, beside the
        # run.
        (out / version / "installed-files.json").write_text(
            json.dumps(env.installed_files, indent=1)
        )
        print(
            f"LiteLLM {version}: environment {built}, {len(env.installed_files)} files installed "
            f"by hash; suite {wall:.0f} s, pytest exit {code}",
            flush=True,
        )
        reports.append(report)
    html = out / "matrix.html"
    html.write_text(render_html([load_run(p) for p in reports]))
    print(
        f"wrote {html} ({html.stat().st_size // 1024} KiB) and one JSON run per version under {out}"
    )
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    gate.check_versions(args.litellm, args.claude_code)
    return gate.run(
        gate.Options(
            args.litellm,
            args.claude_code,
            args.output_dir,
            args.baseline,
            args.candidate,
            args.min_age_days,
            args.fail_on_should,
            args.pytest_args,
            args.bench_repeats,
            args.changes,
            args.waivers,
            args.baseline_run,
            not args.no_rerun,
            runs_only=args.runs_only,
            judge=args.judge or [],
            bisect=args.bisect,
        )
    )


def _add_verdict_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--changes",
        choices=("fail", "warn"),
        default="fail",
        help="a check that fails differently in a way no order ranks ('changed') or whose two "
        "runs disagree ('flaky'): exit 1 (default) or report it for review and exit 0",
    )
    parser.add_argument(
        "--waivers",
        type=Path,
        default=None,
        metavar="FILE",
        help="a YAML file whose `waivers:` (check, reason, expires) accept security changes",
    )


def _add_gate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser(
        "gate", help="the LiteLLM x Claude Code grid; exit 1 when the candidate pair regresses"
    )
    g.add_argument(
        "--litellm",
        nargs="+",
        default=list(gate.DEFAULT_LITELLM),
        metavar="VERSION",
        help="LiteLLM versions, oldest first; 'newest' is the newest release that installs, "
        "'newest-patch' the newest of the first listed version's own line (1.108.x for 1.108.7) "
        f"(default: {' '.join(gate.DEFAULT_LITELLM)})",
    )
    g.add_argument(
        "--claude-code",
        nargs="+",
        default=[p["version"] for p in PROFILES],
        metavar="VERSION",
        help="Claude Code versions, oldest first; one with no profile is captured during the run "
        "(default: every profiled version)",
    )
    g.add_argument(
        "--baseline",
        default=None,
        metavar="LITELLM/CC",
        help="the pair you run today (default: the first of each list)",
    )
    g.add_argument(
        "--candidate",
        default=None,
        metavar="LITELLM/CC",
        help="the pair you want to move to (default: the last of each list)",
    )
    g.add_argument(
        "--min-age-days",
        type=float,
        default=0.0,
        metavar="N",
        help="refuse a Claude Code version published less than N days ago (npm's publish time)",
    )
    g.add_argument(
        "--fail-on-should", action="store_true", help="a should-level regression fails the gate too"
    )
    # The environment sets the default, so a CI job (or the recipe's own test) can trade the
    # benchmark's precision for time without editing the command it runs.
    g.add_argument(
        "--bench-repeats",
        type=int,
        default=int(os.environ.get("CC_GATEWAY_BENCH_REPEATS", "3")),
        metavar="N",
        help="benchmark each LiteLLM version's added latency, N interleaved repeats "
        "(0: skip; default $CC_GATEWAY_BENCH_REPEATS or 3)",
    )
    _add_verdict_options(g)
    g.add_argument(
        "--baseline-run",
        type=Path,
        default=None,
        metavar="RUN.json",
        help="the baseline LiteLLM version's run from an earlier job (its compat.json), used "
        "instead of running it; without it a stored run is reused when its key matches",
    )
    g.add_argument(
        "--no-rerun",
        action="store_true",
        help="do not run the checks that moved a second time (faster; no flake detection)",
    )
    g.add_argument(
        "--runs-only",
        action="store_true",
        help="one job of a CI matrix: run the suite for each --litellm version and keep its run "
        "under OUTPUT_DIR/runs/VERSION/gate-run.json; judge nothing",
    )
    g.add_argument(
        "--judge",
        nargs="+",
        type=Path,
        default=None,
        metavar="DIR",
        help="the matrix's final job: judge the runs the --runs-only jobs kept (under DIR), build "
        "no environment and run nothing; the versions are the runs' own",
    )
    g.add_argument(
        "--bisect",
        action="store_true",
        help="for the candidate's must-level and security items that regressed or changed, find "
        "the first LiteLLM release between the baseline's and the candidate's that did it "
        "(python -m harness bisect) and write it into the cell",
    )
    g.add_argument("--output-dir", type=Path, default=Path("reports/gate"))
    g.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    g.set_defaults(func=cmd_gate)


def _stopped(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _add_sweep(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sw = sub.add_parser(
        "sweep", help="the suite once per release of a LiteLLM patch line; requirements x releases"
    )
    sw.add_argument("--line", required=True, metavar="X.Y", help="the patch line, like 1.108")
    sw.add_argument(
        "--from",
        dest="start",
        default=None,
        metavar="VERSION",
        help="the first release to run (default: the line's first)",
    )
    sw.add_argument(
        "--claude-code",
        nargs="+",
        default=[PROFILES[-1]["version"]],
        metavar="VERSION",
        help=f"the Claude Code versions whose checks run (default: {PROFILES[-1]['version']})",
    )
    sw.add_argument(
        "--notes",
        type=Path,
        default=None,
        metavar="FILE",
        help="release notes to show beside the results: a YAML mapping of version: text",
    )
    sw.add_argument("--output-dir", type=Path, default=Path("reports/sweep"))
    # Extra pytest arguments follow a `--`, as for bisect.
    sw.set_defaults(func=cmd_sweep, pytest_args=[])


def cmd_sweep(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d+\.\d+", args.line):
        raise HarnessError(f"--line {args.line}: write a patch line as MAJOR.MINOR, like 1.108")
    sweep.run(
        sweep.Options(
            args.line, args.start, args.output_dir, args.claude_code, args.notes, args.pytest_args
        )
    )
    return 0


def cmd_repro(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    for result in repro.find(run, args.check):
        folder = repro.write_folder(run, result, args.output_dir / repro.folder_name(result))
        print(
            f"{result['nodeid']} ({result['outcome']}): {folder}  ->  cd {folder} && python3 "
            f"repro.py --python PY"
        )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    figures = bench.run(resolve_python(args.litellm_python), args.repeats)
    print(bench.table(figures))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=1))
    for path in args.attach:
        data = load_run(path)
        data["bench"] = figures
        path.write_text(json.dumps(data, indent=1))
        if path.name == "compat.json":  # the run's own page shows the charts too
            (path.parent / "compat.html").write_text(render_html([data]))
    print(f"wrote {args.output}" + "".join(f", {p} (bench attached)" for p in args.attach))
    return 0


def cmd_profile_diff(args: argparse.Namespace) -> int:
    known = {p["version"]: p for p in PROFILES}
    missing = [v for v in (args.old, args.new) if v not in known]
    if missing:
        print(
            f"no profile for {', '.join(missing)}: capture it with `python -m harness "
            f"capture-claude-code --version {' '.join(missing)}` (profiled: {', '.join(known)})",
            file=sys.stderr,
        )
        return 2
    print(render_profile_diff(known[args.old], known[args.new]))
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    for version in args.version:
        started = time.monotonic()
        path, profile = capture(version)
        print(
            f"Claude Code {version}: install {profile['install_seconds']:.0f} s, capture "
            f"{profile['capture_seconds']:.0f} s, "
            f"total {time.monotonic() - started:.0f} s -> {path}"
        )
        print(
            f"  defaults {profile['defaults']}; 1M sent as {profile['one_m']['model_sent']!r}; "
            "tool round trip "
            f"{'completed' if profile['tool_round_trip']['completed'] else 'NOT completed'}"
        )
    return 0


def cmd_install_cc(args: argparse.Namespace) -> int:
    for version in args.version or [p["version"] for p in PROFILES]:
        got = install(version)
        print(
            f"Claude Code {version}: "
            + (f"installed in {got.install_seconds:.0f} s" if got.install_seconds else "cached")
            + f" ({got.binary})"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m harness")
    sub = parser.add_subparsers(dest="command", required=True)
    cat = sub.add_parser("catalogue", help="list the requirements and their coverage")
    cat.add_argument(
        "--uncovered", action="store_true", help="only the requirements no check covers"
    )
    cat.add_argument(
        "--check",
        action="store_true",
        help="fail when a requirement has neither a fault that kills it nor a reason none can",
    )
    cat.set_defaults(func=cmd_catalogue)
    cmp_ = sub.add_parser(
        "compare",
        help="each check of CANDIDATE classed against BASE (harness.verdict); "
        "exit 1 when something blocks",
    )
    cmp_.add_argument("base", type=Path)
    cmp_.add_argument("candidate", type=Path)
    cmp_.add_argument(
        "--fail-on-should", action="store_true", help="a should-level regression fails too"
    )
    _add_verdict_options(cmp_)
    cmp_.add_argument(
        "--rerun",
        type=Path,
        default=None,
        metavar="RUN.json",
        help="a second run of the candidate's moved checks: "
        "a check whose two runs disagree is flaky",
    )
    cmp_.set_defaults(func=cmd_compare)
    merge = sub.add_parser("merge", help="render several runs as one HTML matrix")
    merge.add_argument("runs", type=Path, nargs="+")
    merge.add_argument("-o", "--output", type=Path, default=Path("reports/merged.html"))
    merge.set_defaults(func=cmd_merge)
    matrix = sub.add_parser("matrix", help="run the suite against several LiteLLM versions")
    matrix.add_argument("--litellm", nargs="+", default=list(DEFAULT_VERSIONS), metavar="VERSION")
    matrix.add_argument("--output-dir", type=Path, default=Path("reports/matrix"))
    matrix.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    matrix.set_defaults(func=cmd_matrix)
    cap = sub.add_parser(
        "capture-claude-code", help="run the real CLI against a capture server, write a profile"
    )
    cap.add_argument("--version", nargs="+", required=True, metavar="VERSION")
    cap.set_defaults(func=cmd_capture)
    pdiff = sub.add_parser(
        "profile-diff", help="what changed between two profiled Claude Code versions"
    )
    pdiff.add_argument("old", metavar="OLD")
    pdiff.add_argument("new", metavar="NEW")
    pdiff.set_defaults(func=cmd_profile_diff)
    inst = sub.add_parser(
        "install-claude-code",
        help="install the CLI versions the e2e checks use (default: profiled)",
    )
    inst.add_argument("--version", nargs="*", metavar="VERSION")
    inst.set_defaults(func=cmd_install_cc)
    _add_gate(sub)
    bch = sub.add_parser(
        "bench", help="the gateway's added latency: the fake provider direct vs through LiteLLM"
    )
    bch.add_argument(
        "--litellm-python", default=None, metavar="PATH", help="the LiteLLM under test"
    )
    bch.add_argument(
        "--repeats",
        type=int,
        default=int(os.environ.get("CC_GATEWAY_BENCH_REPEATS", "3")),
        help="interleaved repeats (default $CC_GATEWAY_BENCH_REPEATS or 3)",
    )
    bch.add_argument(
        "--attach",
        type=Path,
        nargs="*",
        default=[],
        metavar="RUN.json",
        help="write the figures into these runs too (their HTML then shows the charts)",
    )
    bch.add_argument("-o", "--output", type=Path, default=Path("reports/bench.json"))
    bch.set_defaults(func=cmd_bench)
    rep = sub.add_parser("repro", help="write a self-contained folder that replays a failing check")
    rep.add_argument(
        "check", metavar="CHECK", help="a node id, a check name (with its [id]) or a requirement id"
    )
    rep.add_argument(
        "--run",
        type=Path,
        default=Path("reports/compat.json"),
        help="the JSON run (default: the last)",
    )
    rep.add_argument("-o", "--output-dir", type=Path, default=Path("reports/repro"))
    rep.set_defaults(func=cmd_repro)
    # Every other command: a module's add_parsers (one way to register a command, issue 38).
    controls.add_parsers(sub)
    timing.add_parsers(sub)
    deviations_cli.add_parsers(sub)
    cassette_cli.add_parsers(sub)
    rules_cli.add_parsers(sub)
    durations.add_parsers(sub)
    answer_cli.add_parsers(sub)
    witness.add_parsers(sub)
    bisect_cli.add_parsers(sub)
    _add_sweep(sub)
    argv, after = bisect_cli.split_pytest_args(argv)
    args = parser.parse_args(argv)
    if after:
        args.pytest_args = after
    # A CI runner's cancel (SIGTERM) unwinds like Ctrl-C: the suite sessions this started are
    # stopped, not orphaned.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        result: int = args.func(args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return result
