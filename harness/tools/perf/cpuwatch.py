"""Where a run's CPU went, by kind of process: the system under test (LiteLLM, the Claude Code CLI)
or the harness.

A sampler walks the run's process tree a few times a second and keeps each process's last CPU time.
The run's total comes from the kernel (``RUSAGE_CHILDREN`` of the process that waited for it), so
it is exact; what the sampler missed (a process that lived less than one sample) is shown as
``unsampled``, never spread over the kinds.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

KINDS = ("litellm", "claude-code", "harness-workers", "harness-controller", "other")
SUT_KINDS = ("litellm", "claude-code")
HARNESS_KINDS = ("harness-workers", "harness-controller")


def program_of(proc: psutil.Process) -> tuple[list[str], str]:
    """A process's command line and name; empty once it is exiting (a zombie keeps neither)."""
    try:
        return proc.cmdline(), proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return [], ""


def kind_of_argv(argv: list[str], name: str = "") -> str:
    """By the program, never by an option's value (``--litellm-python`` names LiteLLM in a harness
    process)."""
    program = " ".join(argv[:3])
    # The fork server's children keep its command line, ``zygote.py PROFILE SOCKET``: the
    # ``workers`` profile forks the harness's xdist workers, ``litellm`` the proxies.
    zygote = next((i for i, a in enumerate(argv[:3]) if a.endswith("zygote.py")), None)
    if zygote is not None:
        workers = argv[zygote + 1 : zygote + 2] == ["workers"]
        return "harness-workers" if workers else "litellm"
    # Exec'd proxies run LiteLLM's own CLI.
    if (
        "-m litellm" in program
        or "litellm/proxy" in program
        or (argv and Path(argv[0]).name == "litellm")
    ):
        return "litellm"
    # An xdist worker is ``python -u -c "import sys;exec(eval(...))"``: its program is in the third
    # argument. Its launcher, when the fork server forks it, is the warm-worker client.
    if (
        "-m pytest" in program
        or "-m harness" in program
        or "dev.py" in program
        or any("exec(eval(" in a or "warmworker_" in a for a in argv[:4])
    ):
        return "harness-workers"
    if name in {"node", "claude"} or (argv and Path(argv[0]).name in {"node", "claude"}):
        return "claude-code"
    return "other"


@dataclass
class CpuReport:
    wall: float
    total: float
    by_kind: dict[str, float] = field(default_factory=dict)
    returncode: int = 0
    # The programs counted as "other", by CPU-s: what to classify next.
    others: dict[str, float] = field(default_factory=dict)

    @property
    def unsampled(self) -> float:
        return max(0.0, self.total - sum(self.by_kind.values()))

    @property
    def sut(self) -> float:
        return sum(self.by_kind.get(k, 0.0) for k in SUT_KINDS)

    @property
    def harness(self) -> float:
        return sum(self.by_kind.get(k, 0.0) for k in HARNESS_KINDS)

    def floor_ratio(self, cores: int) -> float:
        """Wall time over the least the system under test's own CPU needs on ``cores`` cores."""
        return self.wall / (self.sut / cores) if self.sut else float("inf")

    def as_dict(self, cores: int) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall, 1),
            "cpu_s": round(self.total, 1),
            "cores": cores,
            "by_kind_s": {k: round(v, 1) for k, v in self.by_kind.items()},
            "unsampled_s": round(self.unsampled, 1),
            "sut_cpu_s": round(self.sut, 1),
            "harness_share": round(self.harness / self.total, 3) if self.total else 0.0,
            "floor_ratio": round(self.floor_ratio(cores), 2),
            "returncode": self.returncode,
            "other_programs_s": {k: round(v, 1) for k, v in self.others.items()},
        }


class Sampler(threading.Thread):
    def __init__(self, root_pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.every = root_pid, every
        self.seen: dict[
            tuple[int, float], tuple[str, float]
        ] = {}  # (pid, create time) -> (kind, cpu)
        self.others: dict[tuple[int, float], str] = {}  # what "other" was, to name it
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.sample()

    def sample(self) -> None:
        try:
            root = psutil.Process(self.root_pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for proc in procs:
            try:
                with proc.oneshot():
                    key = (proc.pid, proc.create_time())
                    times = proc.cpu_times()
                # Classified at every sample: a process first seen between its fork and its exec
                # still has its parent's command line. One with none left is exiting, and keeps its
                # kind.
                argv, name = program_of(proc)
                if proc.pid == self.root_pid:
                    kind = "harness-controller"
                elif not argv and key in self.seen:
                    kind = self.seen[key][0]
                else:
                    kind = kind_of_argv(argv, name)
                if kind == "other":
                    self.others[key] = " ".join(argv[:2])[:80]
                self.seen[key] = (kind, times.user + times.system)
            except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
                continue

    def other_programs(self) -> dict[str, float]:
        named: dict[str, float] = {}
        for key, program in self.others.items():
            if self.seen.get(key, ("", 0.0))[0] == "other":
                named[program] = named.get(program, 0.0) + self.seen[key][1]
        return dict(sorted(named.items(), key=lambda kv: -kv[1])[:5])

    def stop(self) -> dict[str, float]:
        self._halt.set()
        self.join()
        by_kind: dict[str, float] = {}
        for kind, cpu in self.seen.values():
            by_kind[kind] = by_kind.get(kind, 0.0) + cpu
        return by_kind


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_watched(
    cmd: list[str], cwd: str | os.PathLike[str], env: dict[str, str] | None = None, **kwargs: Any
) -> tuple[CpuReport, subprocess.CompletedProcess[str]]:
    """Run ``cmd`` to its end and say where its CPU went."""
    before, started = _children_cpu(), time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, text=True, **kwargs)
    sampler = Sampler(process.pid)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    by_kind = sampler.stop()
    report = CpuReport(
        wall=wall,
        total=_children_cpu() - before,
        by_kind=by_kind,
        returncode=process.returncode,
        others=sampler.other_programs(),
    )
    return report, subprocess.CompletedProcess(cmd, process.returncode, out, err)
