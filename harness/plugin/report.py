"""Collects check outcomes from pytest's own hooks and writes the run's JSON and HTML.

It reads only ``TestReport`` objects (with the requirement carried in
``user_properties``), so it works the same on an xdist controller, where the
reports of every worker arrive.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.claude_code import KNOWN as KNOWN_CLAUDE_CODE
from harness.gateway.configs import config_digest
from harness.gateway.reference.faults import kill_score
from harness.plugin.stash import RUN_FACTS
from harness.report.junit import render_junit
from harness.report.render import answer_of, render_html
from harness.verdict.catalogue import catalogue, catalogue_revision
from harness.verdict.classes import HARNESS_EXIT, Verdict
from harness.verdict.model import CheckResult, Outcome, Run, RunInfo
from harness.verdict.runs import run_name, run_verdict

PROBLEM_LINES = 5  # the worst problems the terminal summary names; the report has them all

EVIDENCE_LIMIT = 20_000


def _outcome(report: pytest.TestReport) -> Outcome | None:
    """The check's outcome from one phase's report; None when the phase adds nothing."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "deviation"
        if ("deviation", "fixed") in report.user_properties and report.passed:
            return "fixed"
        mapping: dict[str, Outcome] = {"passed": "pass", "failed": "fail", "skipped": "skipped"}
        return mapping[report.outcome]
    # Setup and teardown never turn a check into "skipped" after its call ran: only a
    # setup skip (a check not applicable here) is one.
    if report.failed:
        return "error"
    if report.skipped and report.when == "setup":
        return "skipped"
    return None


def _first_error_line(text: str) -> str:
    """The error's own words: its first ``E`` line, else (a harness error told without a traceback)
    its first."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return (lines[0] if lines else (text.strip().splitlines() or ["setup failed"])[0])[:300]


def _reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail)
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return ""


def _revision(root: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


class ReportCollector:
    def __init__(self, config: pytest.Config, out_dir: Path, write: bool = True) -> None:
        self.config = config
        self.out_dir = out_dir
        self.write = write
        self.results: dict[str, CheckResult] = {}
        self.started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.written: list[Path] = []
        self.verdict: Verdict | None = None
        self.retried: list[str] = []
        self.problems: dict[str, Any] | None = (
            None  # the answer told as problems (harness.verdict.problems)
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "req" not in props:
            return
        result = self.results.setdefault(
            report.nodeid,
            CheckResult(
                report.nodeid,
                report.nodeid.split("::")[-1],
                str(props["req"]),
                str(props["area"]),
                str(props["level"]),
                "pass",
            ),
        )
        result.duration += report.duration
        result.settings = dict(props.get("settings") or {})  # type: ignore[call-overload]
        result.claude_code = str(props.get("claude_code", ""))
        if isinstance(props.get("repro"), dict):
            result.repro = props["repro"]  # type: ignore[assignment]
        result.observed.update(
            {
                k.removeprefix("observed:"): v
                for k, v in report.user_properties
                if str(k).startswith("observed:")
            }
        )
        if props.get("reply_sources"):
            result.reply_sources = [str(a) for a in props["reply_sources"]]  # type: ignore[attr-defined]
        if props.get("flaky"):
            result.flaky = str(props["flaky"])
        if props.get("ran_twice"):
            result.ran_twice = True
        if isinstance(props.get("ranks"), dict):
            result.ranks = dict(props["ranks"])  # type: ignore[call-overload]
        if "fingerprint" in props:
            result.fingerprint = dict(props["fingerprint"])  # type: ignore[call-overload]
            result.deviation = str(props.get("deviation", ""))
            result.provider_answers = [str(a) for a in props.get("provider_answers") or []]  # type: ignore[attr-defined]
            result.moves = [str(m) for m in props.get("moves") or []]  # type: ignore[attr-defined]
            recorded = props.get("recorded_fingerprint")
            result.recorded_fingerprint = recorded if isinstance(recorded, dict) else None
        outcome = _outcome(report)
        if report.when == "setup" and report.failed:
            result.harness_error = _first_error_line(report.longreprtext)
        # The first bad outcome stands: a teardown error after a failed call is its echo, while
        # a teardown error after a passing call is news.
        if outcome is None or result.outcome in ("fail", "error"):
            if outcome == "error" and report.failed:
                result.evidence[f"{report.when} error"] = report.longreprtext[-EVIDENCE_LIMIT:]
            return
        result.outcome = outcome
        result.reason = _reason(report) or result.reason
        if report.failed or outcome in ("deviation", "fixed"):
            result.evidence["failure"] = report.longreprtext[-EVIDENCE_LIMIT:]
            for title, text in report.sections:
                result.evidence[title] = text[-EVIDENCE_LIMIT:]

    def build(self) -> Run:
        facts = self.config.stash.get(RUN_FACTS, {})
        version = facts.get("litellm_version", "unknown")
        settings = facts.get("settings") or {}
        suffix = (
            f" ({settings['profile']} settings)"
            if settings.get("profile", "defaults") != "defaults"
            else ""
        )
        info = RunInfo(
            label=(
                f"{facts.get('gateway_title', 'LiteLLM')} {version}"
                if version[:1].isdigit()
                else version
            )
            + suffix,
            litellm_version=version,
            gateway=facts.get("gateway", "litellm"),
            gateway_version=version,
            python_version=platform.python_version(),
            suite_revision=_revision(self.config.rootpath),
            # Over every gateway any worker started (one process: the same as its own config_hash).
            config_hash=config_digest(list(facts["config_texts"].values()))
            if facts.get("config_texts")
            else facts.get("config_hash", ""),
            started_at=self.started,
            catalogue_revision=catalogue_revision(),
            claude_code_profiles=[f.version for f in KNOWN_CLAUDE_CODE],
            deviations_file=facts.get("deviations_file", ""),
            user_config=facts.get("user_config"),
            providers=facts.get("providers", "scripted"),
            proxy_launch=facts.get("proxy_launch", ""),
            proxy_starts_retried=sorted(facts.get("proxy_starts_retried") or []),
            settings=settings,
            gateways=facts.get("gateways", {}),
            proven=kill_score({r.id: r.level for r in catalogue().values()}),
        )
        requirements = [
            {
                "id": r.id,
                "area": r.area,
                "level": r.level,
                "statement": r.statement,
                "source": r.source.title,
                "url": r.source.url,
                "security": r.security,
            }
            for r in catalogue().values()
        ]
        return Run(
            info,
            requirements,
            sorted(self.results.values(), key=lambda r: (r.requirement, r.nodeid)),
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results:
            return
        data = self.build().to_json()
        self.retried = list(data["info"]["proxy_starts_retried"])
        self.verdict = run_verdict(
            data, changes=str(self.config.getoption("changes", "fail") or "fail")
        )
        # Data first: the answer goes into the run's JSON, and the page and the terminal read it
        # from there.
        data["answer"] = self.problems = answer_of(data)
        data["verdict"] = self.verdict.to_json()
        if (
            self.verdict.exit_code() == HARNESS_EXIT
            and session.exitstatus == pytest.ExitCode.TESTS_FAILED
        ):
            # Only the harness failed (issue 38): a code of its own, so CI tells it from a gateway
            # that broke.
            session.exitstatus = HARNESS_EXIT
        if not self.write:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=1)
        self.written = [
            self.out_dir / f"{run_name(data)}.json",
            self.out_dir / "compat.json",
            self.out_dir / "compat.html",
            self.out_dir / "junit.xml",
        ]
        for path in self.written[:2]:
            path.write_text(text)
        self.written[2].write_text(render_html([data]))
        self.written[3].write_text(render_junit(data))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.verdict is None:
            if self.written:
                terminalreporter.write_line(
                    "compatibility report: " + ", ".join(str(p) for p in self.written)
                )
            return
        terminalreporter.section(
            "verdict (harness.verdict: each check against its known deviation)"
        )
        if self.written:
            terminalreporter.write_line(
                "compatibility report: " + ", ".join(str(p) for p in self.written)
            )
        if self.retried:
            terminalreporter.write_line(
                f"harness: {len(self.retried)} proxy start(s) failed once and were retried "
                f"({', '.join(self.retried)}); each first log is proxy.first-attempt.log"
            )
        headline, *details = self.verdict.lines()
        for line in details:
            terminalreporter.write_line(line)
        stale = [
            c.nodeid
            for c in self.verdict.checks
            if c.klass in ("fixed", "improved") and c.before != "pass"
        ]
        if stale:
            run = self.written[1] if self.written else "RUN.json"
            terminalreporter.write_line(
                f"good news: {len(stale)} known deviation(s) fixed or improved; the "
                f"deviations file is stale (python -m harness deviations accept --run "
                f"{run})"
            )
        if self.problems is not None:
            terminalreporter.write_line(
                self.problems["headline"] + " (python -m harness answer --run RUN.json):"
            )
            for p in self.problems["problems"][:PROBLEM_LINES]:
                terminalreporter.write_line(
                    f"  {p['impact']:<9} {p['cause']}: {', '.join(p['requirements'])}"
                )
            if len(self.problems["problems"]) > PROBLEM_LINES:
                terminalreporter.write_line(
                    f"  ... {len(self.problems['problems']) - PROBLEM_LINES} more"
                )
        # The verdict is the summary's last word, right above pytest's own counts.
        terminalreporter.write_line(headline, bold=True)
