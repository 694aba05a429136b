"""``python -m harness capture-claude-code | profile-diff | install-claude-code``: Claude Code's
profiles captured from the real CLI, two of them compared, and the CLI versions the e2e checks use
installed."""

from __future__ import annotations

import argparse
import sys
import time

from harness.claude_code import PROFILES
from harness.claude_code.cli import install
from harness.tools.user.capture import capture
from harness.tools.user.profile_diff import render as render_profile_diff


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


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
