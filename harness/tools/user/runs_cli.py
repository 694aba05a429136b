"""``python -m harness compare | merge | matrix``: two runs judged, several runs on one page, the
suite against several LiteLLM versions; and the verdict's options, which the gate shares."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.report.render import render_gateways, render_html
from harness.tools.envs import DEFAULT_VERSIONS, environment, run_suite
from harness.verdict import gateways
from harness.verdict.classes import SEVERITY
from harness.verdict.deviations import waivers as load_waivers
from harness.verdict.runs import compare, load_run


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


def cmd_gateways(args: argparse.Namespace) -> int:
    runs = [load_run(p) for p in args.runs]
    rows = gateways.table(runs)
    print(gateways.markdown(runs, rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_gateways(runs))
    print(f"\nwrote {args.output}")
    return 0


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


def add_verdict_options(parser: argparse.ArgumentParser) -> None:
    """The options that tell how a verdict treats changes and waivers (compare and the gate)."""
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


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_verdict_options(cmp_)
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
    gw = sub.add_parser(
        "gateways", help="one table across gateway runs: core and extended profiles (issue 41)"
    )
    gw.add_argument("runs", type=Path, nargs="+", help="run JSONs, one per gateway (compat.json)")
    gw.add_argument("-o", "--output", type=Path, default=Path("reports/gateways.html"))
    gw.set_defaults(func=cmd_gateways)
    matrix = sub.add_parser("matrix", help="run the suite against several LiteLLM versions")
    matrix.add_argument("--litellm", nargs="+", default=list(DEFAULT_VERSIONS), metavar="VERSION")
    matrix.add_argument("--output-dir", type=Path, default=Path("reports/matrix"))
    matrix.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    matrix.set_defaults(func=cmd_matrix)
