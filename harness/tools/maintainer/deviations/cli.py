"""``python -m harness deviations record|check|accept|lint``: the known-deviations files' command
line."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.gateway import drivers
from harness.gateway.configs import SETTINGS_PROFILES
from harness.tools.maintainer.deviations import accept as accepting
from harness.tools.maintainer.deviations import record as deviations
from harness.verdict.deviations import DIRECTORY as DEVIATIONS_DIR
from harness.verdict.deviations import file_for, load
from harness.verdict.runs import load_run


def _record_target(args: argparse.Namespace) -> Path:
    if args.output:
        return Path(args.output)
    chosen = drivers.driver(str(args.gateway_impl or "litellm").partition(":")[0])
    if not chosen.deviations_prefix:
        raise HarnessError(
            f"--gateway-impl {args.gateway_impl} needs --output: the {chosen.name} gateway has no "
            "deviations file of its own"
        )
    version = chosen.version(args.litellm_python)
    return file_for(chosen.deviations_prefix, version, args.litellm_settings)


def cmd_deviations_record(args: argparse.Namespace) -> int:
    path = _record_target(args)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            deviations.run_suite(
                Path(tmp) / str(n),
                args.litellm_python,
                args.gateway_impl,
                args.pytest_args,
                args.litellm_settings,
            )
            for n in range(args.runs)
        ]
    existing = load(path) if path.exists() else []
    result = deviations.refresh(existing, runs)
    command = (
        "python -m harness deviations record"
        + (f" --runs {args.runs}" if args.runs > 1 else "")
        + (
            f" --litellm-settings {args.litellm_settings}"
            if args.litellm_settings != "defaults"
            else ""
        )
    )
    unchanged = existing and not (
        result.added or result.fingerprinted or result.changed or result.removed
    )
    if (
        not unchanged
    ):  # an unchanged file keeps its date, so a re-record that confirms it leaves no diff
        deviations.write(path, deviations.gateway_fields(runs[0], path), result.entries, command)
    print(
        f"{'confirmed' if unchanged else 'wrote'} {path}: {len(result.entries)} entries in "
        f"{time.monotonic() - started:.0f} s ({args.runs} run(s) of the suite)"
    )
    for title, ids in (
        ("new (explain them)", result.added),
        ("fingerprinted for the first time", result.fingerprinted),
        ("fingerprint changed", result.changed),
        ("removed (now pass)", result.removed),
        ("unstable across runs, not recorded", result.unstable),
        (
            "security changes, NOT recorded (a waiver with reason and expiry is the only way)",
            result.security,
        ),
        ("harness errors, not recorded", result.errors),
    ):
        print(f"  {title}: {len(ids)}" + "".join(f"\n    {i}" for i in ids))
    print(
        f"  unchanged: {result.kept}; left as they were (not run, skipped or errored): "
        f"{result.untouched}"
    )
    return 1 if result.errors or result.unstable or result.security else 0


def cmd_deviations_accept(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    path = accepting.deviations_path(run, args.file)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    done = accepting.accept(run, path, classes, args.check or [])
    if done.moved:
        accepting.save(run, path, done)
    print(done.markdown(run["info"]["label"], path))
    return 1 if done.refused else 0


def cmd_deviations_lint(args: argparse.Namespace) -> int:
    paths = args.files or sorted(p for p in DEVIATIONS_DIR.glob("*.yaml"))
    run = load_run(args.run) if args.run and args.run.exists() else None
    checks = deviations.collected_checks()
    sensitive = deviations.collected_checks(only_sensitive=True)
    failed = 0
    for path in paths:
        profiled = any(path.name.endswith(f".{p}.yaml") for p in SETTINGS_PROFILES)
        bad, stale = accepting.lint(
            path, sensitive if profiled else checks, run, sensitive=sensitive
        )
        failed += len(bad)
        print(
            f"{path.name}: {len(bad)} problem(s), "
            f"{len(stale)} stale entr{'y' if len(stale) == 1 else 'ies'}"
        )
        print(
            "".join(f"  problem: {p}\n" for p in bad)
            + "".join(f"  stale (good news): {s}\n" for s in stale),
            end="",
        )
    return 1 if failed else 0


def cmd_deviations_check(args: argparse.Namespace) -> int:
    paths = args.files or sorted(DEVIATIONS_DIR.glob("*.yaml"))
    checks = deviations.collected_checks()
    sensitive = deviations.collected_checks(only_sensitive=True)
    bad = 0
    for path in paths:
        # A profile's own file (name.<profile>.yaml) is consulted only by the settings-sensitive
        # checks.
        profiled = any(path.name.endswith(f".{p}.yaml") for p in SETTINGS_PROFILES)
        found = (
            deviations.problems(path, sensitive, "among the settings-sensitive ones")
            if profiled
            else deviations.problems(path, checks)
        )
        bad += len(found)
        if found:
            print(f"{path}: {len(found)} problem(s)\n" + "\n".join(f"  {p}" for p in found))
            continue
        fields = deviations.fingerprint_fields(path)
        print(
            f"{path}: ok, {len(load(path))} entries; fingerprint fields: "
            + ", ".join(f"{k} ({n})" for k, n in fields.most_common())
        )
    return 1 if bad else 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dev = sub.add_parser("deviations", help="record or check the known-deviations files")
    dsub = dev.add_subparsers(dest="action", required=True)
    rec = dsub.add_parser(
        "record", help="run the suite and (re)write the deviations file from what it saw"
    )
    rec.add_argument(
        "--litellm-python", default=None, metavar="PATH", help="the LiteLLM under test"
    )
    rec.add_argument(
        "--gateway-impl",
        default=None,
        metavar="IMPL",
        help="e.g. reference:no-auth (needs --output)",
    )
    rec.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="default: harness/verdict/deviations/litellm-<v>.yaml "
        "(.isolated.yaml for that profile)",
    )
    rec.add_argument(
        "--litellm-settings",
        default="defaults",
        choices=SETTINGS_PROFILES,
        help="the profile to record under; 'isolated' runs only the settings-sensitive checks",
    )
    rec.add_argument(
        "--runs",
        type=int,
        default=1,
        help="run the suite N times; a fingerprint that differs is unstable and not recorded",
    )
    rec.add_argument(
        "pytest_args", nargs="*", help="extra pytest arguments (after --), e.g. -k auth"
    )
    rec.set_defaults(func=cmd_deviations_record)
    chk = dsub.add_parser(
        "check", help="every entry fingerprinted, matching exactly one check, listed once"
    )
    chk.add_argument(
        "files", nargs="*", type=Path, help="default: every file in harness/verdict/deviations/"
    )
    chk.set_defaults(func=cmd_deviations_check)
    acc = dsub.add_parser(
        "accept",
        help="rewrite only the entries a run shows moved (improved and fixed by "
        "default); refuses security changes; prints a markdown summary",
    )
    acc.add_argument(
        "--run", type=Path, required=True, metavar="RUN.json", help="a run's compat.json"
    )
    acc.add_argument(
        "--class",
        dest="classes",
        default=",".join(accepting.DEFAULT_CLASSES),
        help=f"comma-separated classes to accept, of {', '.join(accepting.ACCEPTABLE)} "
        "(default: improved,fixed)",
    )
    acc.add_argument(
        "--check",
        action="append",
        metavar="ID",
        help="only this check (node id) or requirement id (repeatable)",
    )
    acc.add_argument(
        "--file", type=Path, default=None, help="default: the deviations file the run used"
    )
    acc.set_defaults(func=cmd_deviations_accept)
    lnt = dsub.add_parser(
        "lint",
        help="entries that match nothing, entries a run shows fixed or improved, "
        "waivers past expiry",
    )
    lnt.add_argument(
        "files", nargs="*", type=Path, help="default: every file in harness/verdict/deviations/"
    )
    lnt.add_argument(
        "--run",
        type=Path,
        default=None,
        metavar="RUN.json",
        help="a run to read stale entries from (e.g. reports/compat.json)",
    )
    lnt.set_defaults(func=cmd_deviations_lint)
