"""harness/ keeps its layers: imports run one way, no package imports in a circle, no run state in a
module."""

from __future__ import annotations

import ast
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Module-level containers a run may fill, each with why it is not run state.
PROCESS_REGISTRIES = {
    (
        "harness.gateway.process",
        "_LIVE",
    ): "the proxies alive in this process, stopped at exit if a run dies",
    (
        "harness.gateway.forkserver.servers",
        "_SERVERS",
    ): "one fork server per LiteLLM interpreter, shared by a process",
    (
        "harness.gateway.configs.model",
        "REGISTRY",
    ): "filled at import by @gateway_config, never by a run",
    (
        "harness.gateway.drivers.base",
        "_REGISTRY",
    ): "filled at import by each driver module's register(), never by a run",
}
MUTATORS = {
    "append",
    "add",
    "update",
    "pop",
    "clear",
    "discard",
    "extend",
    "setdefault",
    "remove",
    "insert",
    "popitem",
    "appendleft",
}


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold():
    """harness/ imports run one way through its layers (pyproject.toml's [tool.importlinter]
    contracts)."""
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_the_contracts(tmp_path):
    """A fake provider that imports the command line (a tool) is refused, and the output names the
    import."""
    shutil.copytree(
        ROOT / "harness", tmp_path / "harness", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    journal = tmp_path / "harness" / "fakes" / "journal.py"
    journal.write_text(
        journal.read_text()
        + "\nfrom harness.tools import cli  # noqa: E402  (the deliberate breach)\n"
    )
    done = _lint_imports(tmp_path, pythonpath=tmp_path)
    assert done.returncode != 0, done.stdout[-2000:]
    assert "harness.fakes.journal -> harness.tools.cli" in done.stdout, done.stdout[-3000:]


def _children(graph: grimp.ImportGraph, package: str) -> list[str]:
    return sorted(c for c in graph.find_children(package) if not c.endswith("__main__"))


def test_no_module_is_over_400_lines_nor_an_init_over_100_with_logic():
    """The house rule (issue 38): a module a reader can hold; an ``__init__`` that only names."""
    too_long = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        lines = len(path.read_text().splitlines())
        tree = ast.parse(path.read_text())
        logic = any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            for node in tree.body
        )
        limit = 100 if path.name == "__init__.py" and logic else 400
        if lines > limit:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {limit})")
    assert too_long == []


def test_no_check_imports_a_tool():
    """The suites run on the harness's run layers; the offline tools (harness/tools/) drive runs,
    never serve one."""
    found = []
    for path in sorted((ROOT / "suites").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else ([a.name for a in node.names] if isinstance(node, ast.Import) else [])
            )
            found += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("harness.tools")
            ]
    assert found == []


def test_no_package_imports_another_that_imports_it_back():
    """At every level of harness/, no two sibling packages or modules import each other (directly or
    not)."""
    graph = grimp.build_graph("harness")
    circles = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        for a, b in itertools.combinations(_children(graph, package), 2):
            there = graph.chain_exists(importer=a, imported=b, as_packages=True)
            if there and graph.chain_exists(importer=b, imported=a, as_packages=True):
                circles.append(f"{a} <-> {b}")
    assert circles == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _mutable_module_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        mutable = isinstance(value, ast.Dict | ast.List | ast.Set) or (
            isinstance(value, ast.Call)
            and getattr(value.func, "id", getattr(value.func, "attr", ""))
            in {"dict", "list", "set", "defaultdict", "deque", "Counter", "OrderedDict"}
        )
        if mutable:
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _mutated(tree: ast.Module, names: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in names
        ):
            found.add(node.func.value.id)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            found |= {
                t.value.id
                for t in targets
                if isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name)
                and t.value.id in names
            }
    return found


def test_no_module_keeps_run_state():
    """No harness module fills a module-level container or rebinds a global while it runs
    (config.stash does)."""
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        tree = ast.parse(path.read_text())
        module = _module_name(path)
        found += [
            f"{module}: global {', '.join(n.names)}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Global)
        ]
        found += [
            f"{module}.{name}"
            for name in sorted(_mutated(tree, _mutable_module_names(tree)))
            if (module, name) not in PROCESS_REGISTRIES
        ]
    assert found == [], "module-level run state (move it to config.stash, or a session fixture)"


SESSION_ONE = """
import contextlib, socket

def test_escapes(make_client):
    make_client("http://127.0.0.1:9", None)
    with contextlib.suppress(OSError), socket.socket() as s:
        s.connect(("203.0.113.9", 80))
"""
SESSION_TWO = """
from harness.plugin.stash import CLIENTS, DURATION_LOG, GUARD, RUN_FACTS

def test_starts_clean(pytestconfig, request):
    assert pytestconfig.stash[GUARD].attempts == []
    assert request.node.stash.get(CLIENTS, []) == []
    assert not [n for n in pytestconfig.stash[DURATION_LOG].seconds if n.startswith("test_one.py")]
    assert "providers" in pytestconfig.stash[RUN_FACTS]
"""


def test_a_second_session_in_the_same_process_starts_clean(pytester: pytest.Pytester):
    """Run state lives in each session's stash: a session after one that escaped, made clients and
    ran checks sees none of it."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_one=SESSION_ONE)
    first = pytester.runpytest_inprocess(
        "-p", "harness.plugin", "-p", "no:cacheprovider", "test_one.py"
    )
    first.assert_outcomes(passed=1, errors=1)  # the escape fails the check at teardown, as it must
    pytester.makepyfile(test_two=SESSION_TWO)
    second = pytester.runpytest_inprocess(
        "-p", "harness.plugin", "-p", "no:cacheprovider", "test_two.py"
    )
    second.assert_outcomes(passed=1)
