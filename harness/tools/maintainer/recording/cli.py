"""The command line of the cassettes: ``record``, and ``cassettes list | check | verify | diff``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness import tapes as cassettes
from harness.fakes.scenario_runner import describe
from harness.fakes.scenarios import SCENARIOS
from harness.tools.maintainer.recording import audit, importing
from harness.tools.maintainer.recording.record import MODES, record
from harness.verdict import sources

Sub = argparse._SubParsersAction


def cmd_record(args: argparse.Namespace) -> int:
    outcome = record(
        args.provider,
        args.scenario,
        args.record_mode,
        args.cassette_dir,
        args.base_url,
        args.stand_in,
        args.litellm_python,
        args.anthropic_model,
        args.openai_model,
    )
    print(
        f"recorded {len(outcome.written)} cassette(s) in {outcome.seconds:.1f} s "
        f"(mode {args.record_mode}); kept {len(outcome.kept)} as they were"
    )
    for path in outcome.written:
        print(f"  wrote {path}")
    for name, why in outcome.failed.items():
        print(f"  FAILED {name}: {why} (its previous cassette, if any, is untouched)")
    return 1 if outcome.failed else 0


def _paths(args: argparse.Namespace) -> list[Path]:
    if args.cassettes:
        return [
            Path(p) if str(p).endswith(".yaml") else cassettes.path_for(str(p), args.cassette_dir)
            for p in args.cassettes
        ]
    return [cassettes.path_for(n, args.cassette_dir) for n in cassettes.names(args.cassette_dir)]


def cmd_list(args: argparse.Namespace) -> int:
    for name in cassettes.names(args.cassette_dir):
        tape = cassettes.load(name, args.cassette_dir)
        p = tape.provenance
        print(
            f"{name:<44} {len(tape.interactions)} interaction(s)  "
            f"{p.get('recorded_at', '')[:25]:<25} {p.get('provider_model', '')}"
        )
    print("\nscenarios (python -m harness record):")
    print("\n".join(describe(s) for s in SCENARIOS.values()))
    return 0


def _verdict(problems: list[str], ok: str) -> int:
    """The problems, one per line, or the one-line ``ok``; the exit status says which."""
    print("\n".join(problems) if problems else ok)
    return 1 if problems else 0


def cmd_check(args: argparse.Namespace) -> int:
    paths = _paths(args)
    return _verdict(
        audit.check(paths), f"ok: {len(paths)} cassette(s), nothing secret, provenance on each"
    )


def cmd_verify(args: argparse.Namespace) -> int:
    problems: list[str] = []
    paths = _paths(args)
    for path in paths:
        problems += audit.verify(cassettes.load(path))
    return _verdict(problems, f"ok: {len(paths)} cassette(s) speak their provider's protocol")


def cmd_import(args: argparse.Namespace) -> int:
    source = importing.read_manifest(args.cassette_dir / cassettes.LIVE / args.source)
    written = importing.import_source(source, args.clone)
    print(f"imported {len(written)} recording(s) from {source.data['repository']}")
    for path in written:
        print(f"  wrote {path}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    count, problems = importing.audit(args.cassette_dir)
    return _verdict(
        problems, f"ok: {count} live recording(s), each with its provenance, licence and digest"
    )


def cmd_sources(args: argparse.Namespace) -> int:
    results = json.loads(args.run.read_text(encoding="utf-8"))["results"]
    print(sources.table(sources.by_route(results)))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    changes = audit.diff(cassettes.load(args.old), cassettes.load(args.new))
    print(
        "\n".join(changes) if changes else "no change in statuses, headers, fields or event types"
    )
    return 1 if changes else 0


def add_parsers(sub: Sub[argparse.ArgumentParser]) -> None:
    rec = sub.add_parser("record", help="record provider scenarios through LiteLLM into cassettes/")
    rec.add_argument("--provider", required=True, choices=["anthropic", "openai"])
    rec.add_argument(
        "--scenario", nargs="*", default=None, metavar="NAME", help="default: every scenario"
    )
    rec.add_argument(
        "--record-mode",
        default="once",
        choices=MODES,
        help="pytest-recording's modes; once (default here) records what has no cassette",
    )
    rec.add_argument(
        "--base-url", default=None, help="the provider's base URL (default: its public API)"
    )
    rec.add_argument(
        "--stand-in",
        action="store_true",
        help="record from a loopback stand-in instead of the real provider (no key, no network)",
    )
    rec.add_argument(
        "--litellm-python", default=None, metavar="PATH", help="the LiteLLM to record through"
    )
    rec.add_argument("--anthropic-model", default="claude-haiku-4-5-20251001")
    rec.add_argument("--openai-model", default="gpt-4o-mini")
    rec.add_argument("--cassette-dir", type=Path, default=cassettes.DIRECTORY)
    rec.set_defaults(func=cmd_record)
    cas = sub.add_parser("cassettes", help="list, check, verify or diff the recorded cassettes")
    csub = cas.add_subparsers(dest="action", required=True)
    for name, func, text in (
        ("list", cmd_list, "the cassettes and the scenarios"),
        ("check", cmd_check, "fail on a cassette holding anything secret or no provenance"),
        ("verify", cmd_verify, "every stream through the grammar, every body the SDK types"),
        ("audit", cmd_audit, "every live recording against its source's manifest"),
    ):
        p = csub.add_parser(name, help=text)
        p.add_argument("cassettes", nargs="*", help="names (anthropic/text) or paths; default: all")
        p.add_argument("--cassette-dir", type=Path, default=cassettes.DIRECTORY)
        p.set_defaults(func=func)
    imp = csub.add_parser("import", help="import a source's live recordings from a local clone")
    imp.add_argument("--source", required=True, help="a folder of cassettes/live/ (pydantic-ai)")
    imp.add_argument("--clone", required=True, type=Path, help="a git clone of its repository")
    imp.add_argument("--cassette-dir", type=Path, default=cassettes.DIRECTORY)
    imp.set_defaults(func=cmd_import)
    src = csub.add_parser(
        "sources",
        help="per provider route, how many checks live, derived and synthetic answers served",
    )
    src.add_argument("--run", type=Path, default=Path("reports/compat.json"))
    src.set_defaults(func=cmd_sources)
    d = csub.add_parser(
        "diff", help="what changed in a provider's behaviour between two recordings"
    )
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    d.set_defaults(func=cmd_diff)
