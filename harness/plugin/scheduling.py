"""Checks side by side with pytest-xdist: how many workers, which gateways they share, one report.

Most of the suite's wall time is waiting, not CPU: LiteLLM's default retries back off, Claude Code's
own retries back off, a provider is scripted to stay silent past a timeout. So the suite runs on
more workers than cores (``-n auto`` in ``pyproject.toml``; ``-n 0`` runs it in one process, as
before).

Each worker has its own fake providers and its own proxies, so no check sees another's traffic. A
worker starts the gateways that carry the slow checks together at its first check, and any other
when a check of its needs it. Checks are handed out one at a time, longest first; a module of the
harness's own tests goes to one worker whole. The workers' run facts (the LiteLLM version, the
configs, the repro records) travel to the controller, which writes the report.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.errors import HarnessError
from harness.gateway import drivers, forkserver
from harness.gateway import process as proxy
from harness.plugin.durations import DurationLog
from harness.plugin.stash import DURATION_LOG, LANES_DIR, RUN_FACTS, SUITES_DIR, WANTED_GATEWAYS

# The gateways whose checks are slow and many: a worker starts them together, at its first check.
SHARED_BY_WORKERS = frozenset({"default", "claude-code", "deployed", "providers"})
MAX_WORKERS = 16
WORKER_MEMORY = 2 << 30  # a worker, its fakes and its proxies, with room to spare
WORKING_LANES_PER_CORE = 1  # workers that take any check, computing ones first: one per core
WAITING_LANES_PER_CORE = 3  # workers beside them that take only checks that mostly wait
SELF_TESTS_PER_CORE = 2  # a run of the harness's own tests only: they run the suite in subprocesses
WAITING_NICE = (
    10  # a waiting lane, its proxies and its CLIs yield the CPU to the working lanes' checks
)


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def distributed(config: pytest.Config) -> bool:
    """A worker, or the controller of workers (not a run inside a worker, nor ``-n 0``)."""
    return is_worker(config) or bool(getattr(config.option, "numprocesses", 0))


# tryfirst: xdist's own answer (one worker per core) comes first otherwise, once the plugin loads
# from its entry point before xdist does.
@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Four lanes per core for the checks (:class:`Lanes`), two workers per core for the harness's
    own tests alone, within the machine's memory.

    A run started from inside a worker (a self-test that runs the suite) stays in one process, as
    does a collection: workers there would only multiply processes on a machine already busy.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or config.option.collectonly:
        return 0
    # Lanes need checks that wait; the harness's own tests alone run two a core, as they always did.
    per_core = (
        WORKING_LANES_PER_CORE + WAITING_LANES_PER_CORE
        if _runs_suites(config)
        else SELF_TESTS_PER_CORE
    )
    by_cpu = per_core * (os.cpu_count() or 1)
    by_memory = max(1, psutil.virtual_memory().available // WORKER_MEMORY)
    return int(max(1, min(MAX_WORKERS, by_cpu, by_memory)))


def pytest_configure(config: pytest.Config) -> None:
    """The controller starts the fork server for its workers while they start up and collect."""
    config.stash[DURATION_LOG] = log = DurationLog()
    config.pluginmanager.register(log, "cc-gateway-durations")
    if is_worker(config):
        config.pluginmanager.register(LaneWriter(), "cc-gateway-lanes")
    if (
        is_worker(config)
        or not getattr(config.option, "numprocesses", None)
        or not _runs_suites(config)
    ):
        return
    config.stash[LANES_DIR] = Path(tempfile.mkdtemp(prefix="cc-gateway-lanes-"))
    if (
        config.getoption("proxy_launch") == "fork"
        and not config.getoption("gateway_url")
        and _forks(config)
    ):
        python = proxy.resolve_python(config.getoption("litellm_python"))
        forkserver.prestart(python, proxy.zygote_env(), share=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Each worker writes which units wait and which are timed into the controller's folder, for the
    scheduler."""
    lanes = node.config.stash.get(LANES_DIR, None)
    if lanes is not None:
        node.workerinput["cc_gateway_lanes"] = str(lanes)


def pytest_unconfigure(config: pytest.Config) -> None:
    lanes = config.stash.get(LANES_DIR, None)
    if lanes is not None:
        shutil.rmtree(lanes, ignore_errors=True)


def waits(item: pytest.Item) -> bool:
    """The check spends most of its time waiting, not computing: it scripts provider faults on a
    deployment of its own (``fresh_model``: LiteLLM's retries back off), runs the real CLI (``e2e``:
    its own retries back off), waits out a silence (``slow``), or says so (``waits``); unless its
    verdict hangs on how quickly the gateway acts (``timed``): a lane that yields the CPU would
    measure the machine."""
    if item.get_closest_marker("timed"):
        return False
    return any(
        item.get_closest_marker(m) for m in ("waits", "e2e", "slow")
    ) or "fresh_model" in getattr(item, "fixturenames", ())


def _runs_suites(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == SUITES_DIR or SUITES_DIR in path.parents or path in SUITES_DIR.parents:
            return True
    return False


DURATIONS = "cc-gateway/durations"  # pytest's cache: each check's last duration, for the order
# Committed, so that a fresh clone's first run (every CI job) is ordered too: without it the
# harness's own slow modules start last and the run ends on one worker, about 150 s later than
# ordered. `python -m harness durations --save` refreshes it from this checkout's last run.
SEED = Path(__file__).with_name("durations.json")
SEED_FLOOR_S = 1.0  # the seed keeps what moves the order; anything shorter counts as 0


def read_seed() -> dict[str, float]:
    return json.loads(SEED.read_text()) if SEED.is_file() else {}


def known_durations(config: pytest.Config) -> dict[str, float]:
    """Each check's last duration: this checkout's own (pytest's cache) over the committed seed."""
    cache = getattr(config, "cache", None)
    return {**read_seed(), **(cache.get(DURATIONS, {}) if cache is not None else {})}


def seed_from(durations: dict[str, float], collected: set[str]) -> dict[str, float]:
    """The entries worth committing: checks that still exist, long enough to move the order."""
    return {
        k: round(v, 1) for k, v in sorted(durations.items()) if k in collected and v >= SEED_FLOOR_S
    }


def expected_seconds(item: pytest.Item, last: dict[str, float]) -> float:
    """How long a check took last time; before any run, a guess from its markers."""
    if item.nodeid in last:
        return last[item.nodeid]
    return (
        20.0 if item.get_closest_marker("slow") else 10.0 if item.get_closest_marker("e2e") else 0.0
    )


def unit(nodeid: str) -> str:
    """What one worker runs as a whole: a module of the harness's own tests (they share
    module-scoped runs of the suite, which another worker would repeat), a class of checks (they
    share a class-scoped fixture, such as one silence for every route), or a single check."""
    parts = nodeid.split("::")
    if not parts[0].startswith("suites/"):
        return parts[0]
    return "::".join(parts[:2]) if len(parts) > 2 and parts[1][:1].isupper() else nodeid


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "load":
        return None  # a --dist the user chose
    from xdist.scheduler import LoadScopeScheduling

    class ByUnit(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return unit(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if not hasattr(self, "lanes"):
                self.lanes = Lanes.read(config, len(self.nodes))
            scope = self.lanes.pick(node.gateway.id, list(self.workqueue))
            if scope is None:
                node.shutdown()  # a waiting lane, and no waiting unit is left
                return
            work_unit = self.workqueue.pop(scope)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            collection = self.registered_collections[node]
            node.send_runtest_some(
                [collection.index(n) for n, done in work_unit.items() if not done]
            )

    config.option.loadscopereorder = False  # the collection's order is already longest first
    return ByUnit(config, log)


class Lanes:
    """Which worker takes which unit, once some checks mostly wait and there are workers to spare.

    - Working lanes, one per core, take the checks that compute first, then anything.
    - Prompt lanes, a third of the rest, take the harness's own test modules first (they run the
      suite or the gate in subprocesses), then the timed checks (the ``timed`` marker), then the
      waiting ones.
    - Waiting lanes, the others, at a lower priority (``WAITING_NICE``), take only checks that
      mostly wait (:func:`waits`) and are not timed.

    A back-off or a silence then never holds a core a computing check could use, two lanes a core
    run at full priority (as many as the checks bear before a timed one measures the machine), and
    no check whose verdict hangs on the gateway's speed runs at the lower priority.
    """

    def __init__(self, waiting: set[str], workers: int, timed: set[str] | None = None) -> None:
        self.waiting, self.timed = waiting, timed or set()
        working = WORKING_LANES_PER_CORE * (os.cpu_count() or 1)
        self.lanes_apart = bool(waiting) and workers > working
        self.working_lanes = working if self.lanes_apart else workers
        self.prompt_lanes = max(1, (workers - working) // 3) if self.lanes_apart else 0

    @classmethod
    def read(cls, config: pytest.Config, workers: int) -> Lanes:
        lanes = config.stash.get(LANES_DIR, None)
        written = sorted(lanes.glob("*.json")) if lanes is not None else []
        facts = json.loads(written[0].read_text()) if written else {}
        return cls(set(facts.get("waiting", ())), workers, set(facts.get("timed", ())))

    def lane(self, worker_id: str) -> str:
        n = int(worker_id.removeprefix("gw") or 0)
        return (
            "working"
            if n < self.working_lanes
            else "prompt"
            if n < self.working_lanes + self.prompt_lanes
            else "waiting"
        )

    def kind(self, unit_name: str) -> str:
        if not unit_name.startswith("suites/"):
            return "self-test"
        return (
            "timed"
            if unit_name in self.timed
            else "waiting"
            if unit_name in self.waiting
            else "computing"
        )

    def pick(self, worker_id: str, queue: list[str]) -> str | None:
        """The next unit for this worker, from the queue in longest-first order; None: nothing it
        may take."""
        if not self.lanes_apart:
            return queue[0] if queue else None
        order = {
            "working": ("computing",),
            "prompt": ("self-test", "timed", "waiting"),
            "waiting": ("waiting",),
        }[self.lane(worker_id)]
        for kind in order:
            if (found := next((u for u in queue if self.kind(u) == kind), None)) is not None:
                return found
        return queue[0] if queue and self.lane(worker_id) == "working" else None


class LaneWriter:
    """On a worker: which units mostly wait, written before xdist reports the collection to the
    controller, whose scheduler reads it once every worker has collected."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        write_lane_facts(session.config, session.items)


def write_lane_facts(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A worker tells the controller's scheduler which units mostly wait and which are timed (every
    worker collects the same); a waiting lane then lowers its priority."""
    folder = getattr(config, "workerinput", {}).get("cc_gateway_lanes")
    if not folder:
        return
    facts = {
        "waiting": sorted({unit(i.nodeid) for i in items if waits(i)}),
        "timed": sorted({unit(i.nodeid) for i in items if i.get_closest_marker("timed")}),
    }
    worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
    path = Path(folder, f"{worker}.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts))
    tmp.replace(path)  # whole or not at all: the scheduler reads it once every worker has collected
    lanes = Lanes(set(facts["waiting"]), config.workerinput["workercount"], set(facts["timed"]))  # type: ignore
    if lanes.lane(worker) == "waiting":
        # Before any proxy or CLI starts: they inherit it (the fork server forks each proxy at its
        # asker's priority). A computing or timed check at full priority then measures the gateway,
        # not the machine.
        os.nice(WAITING_NICE)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first, so no worker starts a 25-second check when the others are done.

    A unit's expected time is the sum of its checks' last durations (pytest's cache, then the
    committed seed); every worker reads the same files, so all agree on the order, as xdist
    requires.
    """
    seed = config.getoption("shuffle")
    if seed is not None:  # the same seed on every worker: they must agree on the order
        units = list(dict.fromkeys(unit(i.nodeid) for i in items))
        random.Random(seed).shuffle(units)
        place = {u: n for n, u in enumerate(units)}
        items.sort(
            key=lambda i: place[unit(i.nodeid)]
        )  # a self-test module stays whole, as on workers
        return
    if not distributed(config):
        return
    last = known_durations(config)
    totals: dict[str, float] = {}
    for item in items:
        totals[unit(item.nodeid)] = totals.get(unit(item.nodeid), 0.0) + expected_seconds(
            item, last
        )
    items.sort(key=lambda i: -totals[unit(i.nodeid)])


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On a worker, start the shared gateways together at first need; another only when a check
    needs it."""
    if is_worker(session.config):
        wanted = session.config.stash.get(WANTED_GATEWAYS, set())
        session.config.stash[WANTED_GATEWAYS] = wanted & SHARED_BY_WORKERS


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    log = session.config.stash.get(DURATION_LOG, None)
    if (
        distributed(session.config)
        and not is_worker(session.config)
        and cache is not None
        and log
        and log.seconds
    ):
        cache.set(
            DURATIONS,
            {**cache.get(DURATIONS, {}), **{k: round(v, 2) for k, v in log.seconds.items()}},
        )
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
        elif key == "proxy_starts_retried" and isinstance(value, list):
            into.setdefault(key, []).extend(value)
        elif key == "settings" and isinstance(value, dict):
            settings = into.setdefault("settings", {"profile": value.get("profile"), "applied": {}})
            settings.setdefault("applied", {}).update(value.get("applied") or {})
        else:
            into.setdefault(key, value)


def _forks(config: pytest.Config) -> bool:
    """Whether the run's gateways start from a fork server (the LiteLLM driver's do)."""
    try:
        drivers.load(tuple(config.getoption("gateway_driver") or ()))
        return drivers.driver(str(config.getoption("gateway_impl")).partition(":")[0]).forks
    except HarnessError:
        return False  # pytest_configure names the unknown driver
