"""The kill matrix in one session: each fault's checks run against the same reference gateways,
faults switched.

``--kill-matrix FAULT`` (repeatable, with ``--gateway-impl reference``) collects, beside the run's
own checks, a copy of every suite module that names one of the requirements the fault promises to
break (``harness.gateway.reference.faults.KILLS``); the copy's node id ends in ``@FAULT``
(``suites/test_auth.py@no-auth
::test_...``) and keeps only those requirements' checks (``--kill-matrix-all``: every check). Before
each check is set up, the worker's reference gateways take its faults, and start afresh (no benched
deployment, no request remembered): what one process per fault did, without a process per fault.

A copy is a module node of its own, so module- and class-scoped fixtures (one silence shared by a
class) are set up again under the copy's fault, never shared with the clean check or another fault.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from harness.gateway.pool import ProxyPool
from harness.gateway.reference.faults import KILLS, SWITCHABLE
from harness.plugin.stash import IMPL, KILL_MATRIX_FAULTS, PROXY_POOL, SUITES_DIR

SEPARATOR = "@"
FAULT_OF = pytest.StashKey[str]()  # on a copied module: the fault its checks run under


def fault_of(nodeid: str) -> str:
    """The fault a check ran under in a kill-matrix session ("" for the clean run's own checks)."""
    head = nodeid.split("::", 1)[0]
    return head.rpartition(SEPARATOR)[2] if SEPARATOR in head else ""


def clean_nodeid(nodeid: str) -> str:
    head, sep, rest = nodeid.partition("::")
    return head.partition(SEPARATOR)[0] + sep + rest


@cache
def modules_naming(reqs: frozenset[str]) -> frozenset[Path] | None:
    """The suite modules that name one of these requirements (a check states its id as a string
    literal); None when one of them is named in no module (a table elsewhere names it: any module
    may hold its checks)."""
    texts = {path.resolve(): path.read_text() for path in sorted(SUITES_DIR.glob("test_*.py"))}
    found = {req: {p for p, text in texts.items() if f'"{req}"' in text} for req in reqs}
    if not all(found.values()):
        return None
    return frozenset(p for paths in found.values() for p in paths)


def names_any(path: Path, reqs: frozenset[str]) -> bool:
    """Whether the module may hold a check of these requirements."""
    modules = modules_naming(reqs)
    return modules is None or path.resolve() in modules


def swept_faults(config: pytest.Config) -> list[str]:
    faults = list(dict.fromkeys(config.getoption("kill_matrix") or ()))
    if not faults:
        return []
    unknown = sorted(set(faults) - SWITCHABLE)
    if unknown:
        raise pytest.UsageError(
            f"--kill-matrix: unknown reference gateway fault(s) {unknown}; "
            f"known: {sorted(SWITCHABLE)}"
        )
    if not config.stash[IMPL].driver.takes_faults:
        raise pytest.UsageError(
            "--kill-matrix needs --gateway-impl reference: only the reference gateway has faults"
        )
    return faults


@pytest.hookimpl(trylast=True)  # after the plugin's own, which parses --gateway-impl
def pytest_configure(config: pytest.Config) -> None:
    config.stash[KILL_MATRIX_FAULTS] = frozenset()
    swept_faults(config)  # a usage error now, before any collection


class FaultCopies(pytest.File):
    """Beside a suite module: one copy of it per swept fault whose promised requirements it
    names."""

    def collect(self) -> list[pytest.Module]:
        config = self.config
        copies = []
        for fault in swept_faults(config):
            if config.getoption("kill_matrix_all") or names_any(self.path, frozenset(KILLS[fault])):
                copy = pytest.Module.from_parent(
                    self, path=self.path, nodeid=f"{self.module_id}{SEPARATOR}{fault}"
                )
                copy.stash[FAULT_OF] = fault
                copies.append(copy)
        return copies

    @property
    def module_id(self) -> str:
        return self.nodeid.removesuffix(SEPARATOR + "faults")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> FaultCopies | None:
    if (
        not swept_faults(parent.config)
        or file_path.suffix != ".py"
        or not file_path.name.startswith("test_")
        or SUITES_DIR not in file_path.resolve().parents
    ):
        return None
    base = f"{parent.nodeid}/{file_path.name}" if parent.nodeid else file_path.name
    node: FaultCopies = FaultCopies.from_parent(
        parent, path=file_path, nodeid=f"{base}{SEPARATOR}faults"
    )
    return node


def item_fault(item: pytest.Item) -> str:
    module = item.getparent(pytest.Module)
    return module.stash.get(FAULT_OF, "") if module is not None else ""


def keep_promised(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A copy keeps only the checks of the requirements its fault promises to break (all with
    --kill-matrix-all)."""
    if not config.getoption("kill_matrix") or config.getoption("kill_matrix_all"):
        return
    dropped = [
        i
        for i in items
        if (f := item_fault(i)) and dict(i.user_properties).get("req") not in KILLS[f]
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [i for i in items if i not in gone]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The check's faults before any of its fixtures (a class's shared scenario included) is set
    up."""
    if not item.config.getoption("kill_matrix"):
        return
    faults = frozenset({item_fault(item)} - {""})
    item.config.stash[KILL_MATRIX_FAULTS] = faults
    pool: ProxyPool | None = item.config.stash.get(PROXY_POOL, None)
    if pool is not None:
        pool.use_faults(faults)
