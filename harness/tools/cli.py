"""Command line of the harness: each command registered by its own module's ``add_parsers``.

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
import signal
import sys

from harness.errors import HarnessError
from harness.tools.maintainer import catalogue_cli, controls, rules_cli, witness
from harness.tools.maintainer.deviations import cli as deviations_cli
from harness.tools.maintainer.recording import cli as cassette_cli
from harness.tools.perf import durations, timing
from harness.tools.perf.bench import cli as bench_cli
from harness.tools.user import answer as answer_cli
from harness.tools.user import claude_code_cli, runs_cli, sweep_cli
from harness.tools.user.bisect import cli as bisect_cli
from harness.tools.user.gate import cli as gate_cli
from harness.tools.user.repro import cli as repro_cli


def _stopped(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m harness")
    sub = parser.add_subparsers(dest="command", required=True)
    # Every command: a module's add_parsers (one way to register a command, issue 38), in the order
    # `--help` lists them.
    catalogue_cli.add_parsers(sub)
    runs_cli.add_parsers(sub)
    claude_code_cli.add_parsers(sub)
    gate_cli.add_parsers(sub)
    bench_cli.add_parsers(sub)
    repro_cli.add_parsers(sub)
    controls.add_parsers(sub)
    timing.add_parsers(sub)
    deviations_cli.add_parsers(sub)
    cassette_cli.add_parsers(sub)
    rules_cli.add_parsers(sub)
    durations.add_parsers(sub)
    answer_cli.add_parsers(sub)
    witness.add_parsers(sub)
    bisect_cli.add_parsers(sub)
    sweep_cli.add_parsers(sub)
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
