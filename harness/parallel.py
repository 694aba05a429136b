"""Checks side by side with pytest-xdist: how many workers, which gateways they share, one report.

Most of the suite's wall time is waiting, not CPU: LiteLLM's default retries back off, Claude Code's
own retries back off, a provider is scripted to stay silent past a timeout. So the suite runs on more
workers than cores (``-n auto`` in ``pyproject.toml``; ``-n 0`` runs it in one process, as before).

Each worker has its own fake providers and its own proxies, so no check sees another's traffic. The
gateways that carry the slow checks run once per worker; every other gateway's checks are one
``xdist_group``, on one worker, so its proxy starts once in the run. The workers' run facts (the
LiteLLM version, the configs, the repro records) travel to the controller, which writes the report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness import forkserver, proxy
from harness.report.collect import RUN_FACTS
from harness.selection import WANTED_GATEWAYS, gateway_name

# The gateways whose checks are slow and many; each worker starts its own. The rest are grouped.
SHARED_BY_WORKERS = frozenset({"default", "deployed", "providers"})
MAX_WORKERS = 8
WORKER_MEMORY = 2 << 30  # a worker, its fakes and its proxies, with room to spare


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two workers per core (the checks mostly wait), within the machine's memory.

    A run started from inside a worker (a self-test that runs the suite) stays in one process, as
    does a collection: workers there would only multiply processes on a machine already busy.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or config.option.collectonly:
        return 0
    by_cpu = 2 * (os.cpu_count() or 1)
    by_memory = max(1, psutil.virtual_memory().available // WORKER_MEMORY)
    return int(max(1, min(MAX_WORKERS, by_cpu, by_memory)))


def pytest_configure(config: pytest.Config) -> None:
    """The controller starts the fork server for its workers while they start up and collect."""
    if is_worker(config) or not getattr(config.option, "numprocesses", None) or not _runs_suites(config):
        return
    if config.getoption("proxy_launch") == "fork" and config.getoption("gateway_impl") == "litellm" \
            and not config.getoption("gateway_url"):
        python = proxy.resolve_python(config.getoption("litellm_python"))
        forkserver.prestart(python, proxy.zygote_env(), share=True)


def _runs_suites(config: pytest.Config) -> bool:
    suites = Path(__file__).resolve().parent.parent / "suites"
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == suites or suites in path.parents or path in suites.parents:
            return True
    return False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        name = gateway_name(item)
        uses_a_gateway = {"proxy", "gateway", "proxy_pool"} & set(getattr(item, "fixturenames", ()))
        if uses_a_gateway and name not in SHARED_BY_WORKERS:
            item.add_marker(pytest.mark.xdist_group(f"gateway-{name}"))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On a worker, start the shared gateways together at first need; a grouped one only if its checks come."""
    if is_worker(session.config):
        wanted = session.config.stash.get(WANTED_GATEWAYS, set())
        session.config.stash[WANTED_GATEWAYS] = wanted & SHARED_BY_WORKERS


def pytest_sessionfinish(session: pytest.Session) -> None:
    if is_worker(session.config):
        facts = session.config.stash.get(RUN_FACTS, {})
        # execnet carries plain data only; what a fact holds is JSON-shaped already.
        session.config.workeroutput["run_facts"] = json.loads(json.dumps(facts, default=str))  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Fold a finished worker's run facts into the controller's."""
    facts = getattr(node, "workeroutput", {}).get("run_facts")
    if isinstance(facts, dict):
        merge_facts(node.config.stash.setdefault(RUN_FACTS, {}), facts)


def merge_facts(into: dict[str, Any], facts: dict[str, Any]) -> None:
    for key, value in facts.items():
        if key in ("gateways", "config_texts") and isinstance(value, dict):
            into.setdefault(key, {}).update(value)
        elif key == "settings" and isinstance(value, dict):
            settings = into.setdefault("settings", {"profile": value.get("profile"), "applied": {}})
            settings.setdefault("applied", {}).update(value.get("applied") or {})
        else:
            into.setdefault(key, value)
