"""The gate's options, the LiteLLM versions it takes by default, its words for the newest
release (``newest``, ``newest-patch``), and the check that no version is listed twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.tools import runstore

NEWEST = "newest"
# The newest release of the first listed version's own line (1.108.x for 1.108.7): a
# long-term-support patch.
NEWEST_PATCH = "newest-patch"
DEFAULT_LITELLM = ("1.77.7", "1.108.7", NEWEST)


@dataclass
class Options:
    litellm: list[str]
    claude_code: list[str]
    output_dir: Path
    baseline: str | None = None  # LITELLM/CLAUDE_CODE; default: the first of each list
    candidate: str | None = None  # default: the last of each list
    min_age_days: float = 0.0
    fail_on_should: bool = False
    pytest_args: list[str] = field(default_factory=list)
    bench_repeats: int = 3  # 0: no benchmark
    changes: str = "fail"  # "warn": an unreviewed change is reported, not failed
    waivers: Path | None = None  # a file whose `waivers:` accept security changes (reason, expiry)
    baseline_run: Path | None = (
        None  # the baseline's run from an earlier job, used instead of running it
    )
    rerun: bool = True  # every check that moved runs once more; two runs that disagree are "flaky"
    store: Path = field(default_factory=lambda: runstore.STORE)
    runs_only: bool = (
        False  # one job of a CI matrix: run and store each version's run, judge nothing
    )
    judge: list[Path] = field(
        default_factory=list
    )  # the final job: judge the runs these jobs stored, run nothing
    # bisect the candidate's must-level and security items, the first bad release in the cell
    bisect: bool = False


def check_versions(litellm: list[str], claude_code: list[str]) -> None:
    for kind, versions in (("--litellm", litellm), ("--claude-code", claude_code)):
        if len(set(versions)) != len(versions):
            raise HarnessError(f"{kind} lists a version twice: {' '.join(versions)}")
