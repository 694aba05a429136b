"""Each check's duration in this run, kept for the next run's order
(:mod:`harness.plugin.scheduling`)."""

from __future__ import annotations

import pytest


class DurationLog:
    """Each check's duration this run, written to pytest's cache at the end for the next run's
    order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.skipped: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A skip says nothing of how long a check takes: keep what the last run knew. (A known
        # deviation is an xfail, and it did run.)
        if report.skipped and not hasattr(report, "wasxfail"):
            self.seconds.pop(report.nodeid, None)
            self.skipped.add(report.nodeid)
        elif report.nodeid not in self.skipped:
            self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration
