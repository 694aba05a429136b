"""``python -m harness answer``: what a Claude Code user will meet through the pinned LiteLLM,
generated.

The answer (:mod:`harness.verdict.problems`) is computed from the pinned version's known-deviations
file (LiteLLM's default settings) and its causes: one problem per root cause, worst impact first,
with the routes it touches and a mitigation where a run proves one; then the route table; the counts
by level come last. ``--json`` prints it as data; ``--run`` tells a run's failures instead.
``--write README.md`` puts the markdown between the ``<!-- answer:start -->`` and
``<!-- answer:end -->`` markers; ``--check README.md`` exits 1 when the file's block differs, so the
README cannot drift from the deviations file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from harness.claude_code import load_profiles, version_key
from harness.errors import HarnessError
from harness.verdict import deviations, problems
from harness.verdict.causes import ROUTES
from harness.verdict.problems import Answer
from harness.verdict.runs import load_run

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = ROOT / "pyproject.toml"
START, END = "<!-- answer:start -->", "<!-- answer:end -->"
SHORT = 90
WITNESS_CHARS = (
    80  # of what the CLI printed, in the README's line (the report and --json have it whole)
)
PIN = re.compile(r"litellm\[proxy\]==([0-9][0-9A-Za-z.]*)")
PLAIN_FILE = re.compile(r"litellm-([0-9][0-9A-Za-z.]*?)\.yaml")


def pinned_version(pyproject: Path = PYPROJECT, directory: Path = deviations.DIRECTORY) -> str:
    """The LiteLLM the project pins (pyproject's ``litellm[proxy]==X``); else the newest plain
    deviations file."""
    if pyproject.is_file():
        extras = (
            tomllib.loads(pyproject.read_text()).get("project", {}).get("optional-dependencies", {})
        )
        for spec in extras.get("litellm", []):
            if m := PIN.fullmatch(spec.replace(" ", "")):
                return m.group(1)
    versions = [
        m.group(1) for p in directory.glob("litellm-*.yaml") if (m := PLAIN_FILE.fullmatch(p.name))
    ]
    if not versions:
        raise HarnessError(
            f"no litellm[proxy]==X pin in {pyproject} and no litellm-X.yaml in {directory}"
        )
    return max(versions, key=version_key)


def newest_claude_code() -> str:
    """The newest profiled Claude Code version: the one the answer speaks for."""
    return str(max((p["version"] for p in load_profiles()), key=version_key))


def compute(
    version: str | None = None,
    run: Path | None = None,
    causes_file: Path | None = None,
    claude_code: str | None = None,
) -> Answer:
    """The answer for ``version`` (default: the pinned one) on LiteLLM's defaults, from its
    deviations file; or, given ``run``, what that run shows, told through ``causes_file``'s causes
    (default: the run's file). For ``claude_code`` (default: the newest profiled version): other
    versions' checks are left out."""
    claude_code = claude_code or newest_claude_code()
    if run is not None:
        return problems.from_run(load_run(run), causes_file, claude_code)
    version = version or pinned_version()
    path = deviations.file_for("litellm", version)
    if not path.exists():
        raise HarnessError(f"no known-deviations file for LiteLLM {version}: {path}")
    return problems.from_file(path, f"LiteLLM {version}", claude_code, "LiteLLM's defaults")


def shorten(text: str, limit: int = SHORT) -> str:
    """The statement cut at a word under ``limit`` characters, code spans kept whole, safe in a
    table cell."""
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:(")
        if text.count("`") % 2:  # a code span cut open: end before it
            text = text[: text.rindex("`")].rstrip(" ,;:(")
        text += " …"
    return text.replace("|", "\\|")


def _rel(name: str) -> str:
    path = deviations.DIRECTORY / name
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else name


def _proof(proof: str) -> str:
    kind, _, target = proof.partition(":")
    if kind == "profile":
        return f"the `--litellm-settings {target}` run of `dev.py all`"
    return f"`{target.split('[')[0].split('::')[-1]}`"


def _problem_line(n: int, p: dict[str, Any]) -> str:
    where = (
        "every route"
        if set(p["routes"]) == set(ROUTES)
        else ", ".join(p["routes"]) or "the operator's side"
    )
    fix = (
        f" **Avoid it:** {p['mitigation']['setting']} "
        f"(proven by {_proof(p['mitigation']['proof'])})."
        if p["mitigation"]
        else ""
    )
    said = (
        p["witness"]["printed"].splitlines()[0][:WITNESS_CHARS]
        if p["witness"] and p["witness"]["printed"]
        else ""
    )
    witness = (
        f" Claude Code {p['witness']['claude_code']} printed: `{said.replace('`', '')}`"
        f" (exit {p['witness']['exit_code']})."
        if said
        else ""
    )
    return (
        f"{n}. **{p['impact']}**: {p['sees']}{witness} *On:* {where}.{fix} "
        f"[`{p['cause']}`] {', '.join(p['requirements'])}"
    )


def render(answer: Answer) -> str:
    """The markdown block (without the markers): the problems first, then the route table, then the
    counts."""
    data = answer.to_json()
    source = _rel(data["source"]) if data["source"].endswith(".yaml") else data["source"]
    recorded = f", recorded {data['recorded_at']}" if data["recorded_at"] else ""
    sec = data["security"]
    lines = [
        f"<!-- generated by `python -m harness answer --write README.md` from {source}; "
        "do not edit by hand -->",
        f"**{data['headline']}** (from [`{Path(source).name}`]({source}){recorded}):",
        "",
    ]
    lines += [_problem_line(n, p) for n, p in enumerate(data["problems"], 1)]
    if data["unexplained"]:
        lines.append(
            f"{len(data['problems']) + 1}. **unexplained**: {len(data['unexplained'])} "
            "failing check(s) have no known cause: "
            + ", ".join(u["check"] for u in data["unexplained"][:5])
        )
    quiet = data["not_met_by_users"]
    if quiet:
        lines += [
            "",
            "Not met by users: "
            + "; ".join(
                f"{p['cause']} ({p['impact']}, {', '.join(p['requirements'])})" for p in quiet
            )
            + ".",
        ]
    lines += ["", "| route | Claude Code through it | causes |", "| --- | --- | --- |"]
    lines += [
        f"| {r['label']} | {r['state']} | {', '.join(r['causes']) or '—'} |" for r in data["routes"]
    ]
    levels = data["levels"]
    lines += [
        "",
        f"Exposures observed: {len(sec['exposures_observed'])}"
        + (f" ({'; '.join(sec['exposures_observed'][:3])})" if sec["exposures_observed"] else "")
        + f". Security requirements failing: {len(sec['requirements_failing'])}"
        + (
            f" ({', '.join(sec['requirements_failing'])}); no fingerprint of theirs shows a key "
            "at a provider or a client, or a refused request served"
            if sec["requirements_failing"] and not sec["exposures_observed"]
            else ""
        )
        + ". Requirements broken by level: "
        + "; ".join(
            f"{lv} {v['requirements']} of {v['of']} ({v['checks']} checks)"
            for lv, v in levels.items()
        )
        + ".",
    ]
    return "\n".join(lines)


def replace_block(
    text: str, block: str, name: str = "the file", markers: tuple[str, str] = (START, END)
) -> str:
    """``text`` with the part between the markers (the answer's, unless named) replaced by
    ``block``."""
    opening, closing = markers
    start, end = text.find(opening), text.find(closing)
    if start < 0 or end < start:
        raise HarnessError(f"{name} has no {opening} ... {closing} block")
    return f"{text[: start + len(opening)]}\n{block}\n{text[end:]}"


def sync_block(path: Path, block: str, markers: tuple[str, str], write: bool, command: str) -> int:
    """Rewrite ``path``'s generated block (``write``), or say it is stale and return 1; ``command``
    rewrites it."""
    text = path.read_text()
    fresh = replace_block(text, block, str(path), markers)
    if write:
        path.write_text(fresh)
        return 0
    if fresh != text:
        print(f"{path}'s {markers[0]} block is stale: {command} {path}")
        return 1
    return 0


def current_block(text: str, name: str = "the file") -> str:
    """What stands between the markers now."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise HarnessError(f"{name} has no {START} ... {END} block")
    return text[start + len(START) : end].strip("\n")


def cmd_answer(args: argparse.Namespace) -> int:
    answer = compute(args.litellm, args.run, args.causes, args.claude_code)
    if args.json:
        print(json.dumps(answer.to_json(), indent=1))
        return 0
    block = render(answer)
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(), block, str(args.write)))
        print(f"wrote the answer into {args.write}")
        return 0
    if args.check:
        if current_block(args.check.read_text(), str(args.check)) != block:
            print(
                f"{args.check}: the answer block differs from the generated one; run "
                f"`python -m harness answer --write {args.check}`",
                file=sys.stderr,
            )
            return 1
        print(f"{args.check}: the answer block is current")
        return 0
    print(block)
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ans = sub.add_parser(
        "answer", help="the pinned LiteLLM's known deviations as the README's markdown block"
    )
    ans.add_argument(
        "--litellm",
        default=None,
        metavar="VERSION",
        help="another version with a deviations file (default: the pin in pyproject.toml)",
    )
    ans.add_argument(
        "--run",
        type=Path,
        default=None,
        metavar="RUN.json",
        help="what this run shows instead (a compat.json), told through the causes of --causes",
    )
    ans.add_argument(
        "--causes",
        type=Path,
        default=None,
        metavar="FILE",
        help="the deviations file whose causes explain the run's checks (default: the run's own)",
    )
    ans.add_argument(
        "--claude-code",
        default=None,
        metavar="VERSION",
        help="the Claude Code version it speaks for (default: the newest profiled); checks about "
        "other versions are left out",
    )
    ans.add_argument("--json", action="store_true", help="the problems and the route table as JSON")
    mode = ans.add_mutually_exclusive_group()
    mode.add_argument(
        "--write",
        type=Path,
        default=None,
        metavar="FILE",
        help="replace the block between <!-- answer:start --> and <!-- answer:end --> in FILE",
    )
    mode.add_argument(
        "--check",
        type=Path,
        default=None,
        metavar="FILE",
        help="exit 1 when FILE's block differs from the generated one",
    )
    ans.set_defaults(func=cmd_answer)
