"""Every command README.md and docs/*.md show still runs, in a cheap form, and the README's answer
is current.

Commands come from fenced blocks (no language, ``sh``, ``bash``, ``shell``, ``console``) and from
inline code that starts like a command of this project (``python -m harness``, ``python3 dev.py``,
``pytest``). Each is run cheaply, never for real:

- ``python -m harness SUB [SUBSUB] ...``: its ``--help``, which must name every ``--option`` the doc
  shows. All of them run in one child process (the CLI takes seconds to import, once);
- ``python3 dev.py CMD ...``: ``CMD`` is in dev.py's usage; the pytest arguments of ``suite`` and
  ``all`` go to a collection, those of ``gate`` and ``matrix`` to the harness's ``--help``;
- ``pytest ...``: ``--collect-only`` with the doc's arguments. Commands whose options do not clash
  share one collection (each costs seconds of start-up), so every distinct set of arguments is
  collected once;
- a script of this repository: its ``--help``;
- anything else (npm, pip, ssh ...) must be in ``ELSEWHERE`` with the reason it is not run here.

Collection only parses the files; the subprocesses run in the tests, each at most once per session.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.tools.user import answer

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"", "sh", "bash", "shell", "console"}
FENCE = re.compile(r"^\s*```\s*([\w-]*)\s*$")
INLINE = re.compile(
    r"`((?:\.venv/bin/)?python3? -m (?:harness|pytest) [^`]+|python3 dev\.py [^`]+|pytest [^`]+)`"
)
PYTHONS = {"python", "python3", ".venv/bin/python", ".venv/bin/python3"}
# Programs the docs show that this test does not run, and why.
ELSEWHERE = {
    "npm": "installs from the npm registry",
    "pip": "installs from PyPI",
    "apt-get": "installs system packages as root",
    "git": "reaches a remote",
    "ssh": "needs a remote host",
    "curl": "needs a running gateway",
    "lint-imports": "python3 dev.py all runs it",
    "venv": "creates an environment (python3 -m venv)",
    "repro.py": "runs inside a repro folder that python -m harness repro writes",
    "harness.gateway.reference": (
        "serves until stopped; tests/test_repro.py starts it from a repro folder"
    ),
    "cc-gateway-conformance": (
        "the installed suite; tests/test_packaging.py runs it from a freshly built wheel"
    ),
}
# pytest options that take no value (everything else starting with - takes the next token).
FLAGS = {
    "-x",
    "-q",
    "-v",
    "-s",
    "--co",
    "--collect-only",
    "--no-report",
    "--no-deviations",
    "--no-rerun",
    "--exitfirst",
    "--lf",
    "--ff",
}
# At most one gateway per collection: these choose it.
GATEWAY = {"--gateway-impl", "--gateway-url", "--litellm-config", "--gateway-config"}
CHEAP = ["--collect-only", "-q", "-p", "no:cacheprovider", "-n", "0", "--no-report"]
TIMEOUT = 300


@dataclass(frozen=True)
class Command:
    where: str  # "docs/gate.md:12"
    text: str


def _commands_in(path: Path) -> list[Command]:
    name = path.relative_to(ROOT).as_posix()
    found: list[Command] = []
    lang: str | None = None
    pending: tuple[int, str] | None = None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if m := FENCE.match(line):
            lang = m.group(1).lower() if lang is None else None
            continue
        if lang is None:
            found += [Command(f"{name}:{n}", m.group(1)) for m in INLINE.finditer(line)]
            continue
        if lang not in SHELL:
            continue
        text = line.strip().removeprefix("$ ")
        if pending:
            text = f"{pending[1]} {text}"
        start = pending[0] if pending else n
        if text.endswith("\\"):
            pending = (start, text[:-1].strip())
            continue
        pending = None
        if text and not text.startswith("#"):
            found.append(Command(f"{name}:{start}", text))
    return found


COMMANDS = [c for doc in DOCS for c in _commands_in(doc)]


def _tokens(text: str) -> list[str]:
    words = shlex.split(text, comments=True)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # VAR=value before the program
        words.pop(0)
    return words


def kind(words: list[str]) -> tuple[str, list[str]]:
    """What a command is, and the arguments that matter for its cheap form."""
    program = words[0] if words else ""
    if program in PYTHONS and len(words) > 2 and words[1] == "-m":
        if words[2] in ("harness", "pytest"):
            return words[2], words[3:]
        return "elsewhere", [words[2]]
    if program in PYTHONS and len(words) > 1:
        if words[1] == "dev.py":
            return "dev", words[2:]
        if (ROOT / words[1]).is_file():
            return "script", words[1:2]
        return "elsewhere", [Path(words[1]).name]
    if Path(program).name == "pytest":
        return "pytest", words[1:]
    return "elsewhere", [Path(program).name]


def _options(args: list[str]) -> list[str]:
    """The --options a harness command shows (stopping at a bare --, after which pytest's come)."""
    out = []
    for word in args:
        if word == "--":
            break
        word = word.strip("[]")
        if word.startswith("--") and len(word) > 2:
            out.append(word.split("=", 1)[0])
    return out


# --- python -m harness: every --help in one child -------------------------------------------------

CHILD = r"""
import contextlib, io, json, sys
from harness.tools import cli
out = {}
for argv in json.load(sys.stdin):
    buf, code = io.StringIO(), 0
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            code = cli.main([*argv, "--help"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    out[" ".join(argv)] = [code, buf.getvalue()]
print(json.dumps(out))
"""


def _harness_calls() -> list[list[str]]:
    """Each harness command's subcommand path, with a candidate second word (a sub-subcommand,
    maybe)."""
    out: list[list[str]] = []
    for command in COMMANDS:
        for args in _harness_args(command):
            if args and not args[0].startswith("-"):
                out.append(args[:1])
                if len(args) > 1 and re.fullmatch(r"[a-z][a-z-]*", args[1]):
                    out.append(args[:2])
    return out


def _harness_args(command: Command) -> list[list[str]]:
    what, args = kind(_tokens(command.text))
    if what == "harness":
        return [args]
    if what == "dev" and args and args[0] in ("gate", "matrix"):
        return [args]
    return []


@functools.cache
def harness_help() -> dict[str, tuple[int, str]]:
    calls = sorted({tuple(c) for c in _harness_calls()})
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps([list(c) for c in calls]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {k: (v[0], v[1]) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


def check_harness(args: list[str]) -> None:
    helps = harness_help()
    sub = args[0]
    nested = " ".join(args[:2])
    if nested in helps and helps[nested][0] == 0 and f"harness {nested} " in helps[nested][1] + " ":
        sub = nested
    code, text = helps[sub]
    assert code == 0, f"python -m harness {sub} --help exits {code}:\n{text[-2000:]}"
    missing = [
        o for o in _options(args) if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)
    ]
    assert not missing, f"python -m harness {sub} has no {', '.join(missing)}:\n{text}"


# --- pytest: collections, packed ------------------------------------------------------------------


@dataclass
class Collection:
    paths: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(
        default_factory=dict
    )  # name -> the tokens (name and value)

    def accepts(self, paths: list[str], options: dict[str, list[str]]) -> bool:
        """No option given twice with different values, and at most one way of choosing the
        gateway."""
        clash = any(
            name in self.options and self.options[name] != tokens
            for name, tokens in options.items()
        )
        return not clash and len({n for n in [*self.options, *options] if n in GATEWAY}) <= 1

    def add(self, paths: list[str], options: dict[str, list[str]]) -> None:
        self.paths += [p for p in paths if p not in self.paths]
        self.options.update(options)

    def argv(self) -> list[str]:
        return [*self.paths, *(t for tokens in self.options.values() for t in tokens)]


def _split(args: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    paths: list[str] = []
    options: dict[str, list[str]] = {}
    words = iter(args)
    for word in words:
        if not word.startswith("-"):
            paths.append(word)
        elif word in FLAGS or "=" in word:
            options[word.split("=", 1)[0]] = [word]
        else:
            options[word] = [word, next(words, "")]
    return paths, options


def _pytest_args(command: Command) -> list[str] | None:
    what, args = kind(_tokens(command.text))
    if what == "pytest":
        return args
    if what == "dev" and args and args[0] in ("suite", "all") and args[1:]:
        return ["suites/", *args[1:]] if args[0] == "suite" else ["tests/", "suites/", *args[1:]]
    return None


def _pack() -> tuple[list[Collection], dict[str, int]]:
    collections: list[Collection] = []
    index: dict[str, int] = {}
    for command in COMMANDS:
        args = _pytest_args(command)
        if args is None:
            continue
        paths, options = _split(args)
        n = next(
            (i for i, c in enumerate(collections) if c.accepts(paths, options)), len(collections)
        )
        if n == len(collections):
            collections.append(Collection())
        collections[n].add(paths, options)
        index[command.where + command.text] = n
    return collections, index


COLLECTIONS, COLLECTION_OF = _pack()


@functools.cache
def collect(n: int) -> tuple[int, str]:
    argv = [sys.executable, "-m", "pytest", *COLLECTIONS[n].argv(), *CHEAP]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    return done.returncode, f"{' '.join(argv[1:])}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


# --- dev.py ---------------------------------------------------------------------------------------


@functools.cache
def dev_usage() -> str:
    done = subprocess.run(
        [sys.executable, "dev.py"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, "dev.py without a command prints its usage and exits 2"
    return done.stderr


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_documented_command_runs(command):
    words = _tokens(command.text)
    what, args = kind(words)
    if what == "elsewhere":
        assert args[0] in ELSEWHERE, (
            f"{command.where}: `{command.text}` is neither run here nor listed in "
            "ELSEWHERE with the reason it is not"
        )
        return
    if what == "script":
        done = subprocess.run(
            [sys.executable, args[0], "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return
    if what == "dev":
        assert args, f"{command.where}: dev.py needs a command"
        assert re.search(rf"python3 dev\.py {re.escape(args[0])}\b", dev_usage()), (
            f"{command.where}: dev.py's usage has no {args[0]!r}"
        )
    if what == "harness" or (what == "dev" and args[0] in ("gate", "matrix")):
        assert args, f"{command.where}: python -m harness needs a subcommand"
        check_harness(args)
    if _pytest_args(command) is not None:
        code, output = collect(COLLECTION_OF[command.where + command.text])
        # 5: nothing matched the combined selection; the arguments were still accepted.
        assert code in (0, 5), f"{command.where}: `{command.text}` does not collect:\n{output}"


def test_the_docs_show_commands_of_every_kind():
    kinds = {kind(_tokens(c.text))[0] for c in COMMANDS}
    assert {"harness", "dev", "pytest"} <= kinds
    assert len(COLLECTIONS) <= 6, (
        f"{len(COLLECTIONS)} collections: pack the pytest commands tighter"
    )


def test_the_readme_answer_is_generated():
    readme = (ROOT / "README.md").read_text()
    assert answer.current_block(readme, "README.md", (answer.START, answer.END)) == answer.render(
        answer.compute()
    ), "README.md's answer block is stale: run `python -m harness answer --write README.md`"


def test_every_doc_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [p.name for p in DOCS[1:] if f"(docs/{p.name})" not in readme]
    assert not missing, f"README.md's More list lacks {missing}"
