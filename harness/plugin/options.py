"""The plugin's command-line options (``pytest_addoption``): what a run is against and how it runs.

Registered as a plugin of its own by :mod:`harness.plugin.hooks` (its ``pytest_plugins``).
"""

from __future__ import annotations

import os

import pytest

from harness.gateway import forkserver
from harness.gateway.configs import SETTINGS_PROFILES
from harness.plugin import warmworkers


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cc-gateway", "Claude Code gateway conformance")
    group.addoption(
        "--litellm-python",
        default=None,
        metavar="PATH",
        help="Python interpreter (or virtualenv directory) whose litellm is under test; "
        "default: the interpreter running pytest",
    )
    group.addoption(
        "--witness",
        action="store_true",
        default=False,
        help="run only the witness checks: what the real Claude Code CLI prints against each known "
        "cause (python -m harness witness writes it into the deviations file)",
    )
    group.addoption(
        "--proxy-startup-timeout",
        default=120.0,
        type=float,
        metavar="SECONDS",
        help="how long a proxy may take to become ready (default 120)",
    )
    group.addoption(
        "--gateway-impl",
        "--gateway",
        dest="gateway_impl",
        default="litellm",
        metavar="IMPL",
        help="what to test: a gateway driver's name (harness/gateway/drivers/): 'litellm' "
        "(default), 'claude-gateway', 'portkey' or 'reference[:fault,...]' (the harness's own "
        "reference gateway, optionally with deliberate faults)",
    )
    group.addoption(
        "--gateway-driver",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a gateway driver kept outside harness/gateway/drivers/ (repeatable); its "
        "name is then a --gateway-impl value",
    )
    group.addoption(
        "--gateway-url",
        default=None,
        metavar="URL",
        help="black-box mode: test the gateway at URL (loopback only); only checks marked "
        "blackbox run",
    )
    group.addoption(
        "--gateway-key",
        default=os.environ.get("CC_GATEWAY_KEY"),
        metavar="KEY",
        help="the key for --gateway-url (default: $CC_GATEWAY_KEY)",
    )
    group.addoption(
        "--litellm-settings",
        default="defaults",
        choices=SETTINGS_PROFILES,
        help="'defaults' (LiteLLM's own retry, timeout and cooldown settings, as deployed) or "
        "'isolated' (num_retries 0, request_timeout 30, cooldowns off, as the harness once set "
        "everywhere); CI runs the settings-sensitive checks on both",
    )
    group.addoption(
        "--no-deviations",
        action="store_true",
        help="ignore the known-deviations file and show the raw results",
    )
    group.addoption(
        "--no-rerun",
        dest="rerun",
        action="store_false",
        help="do not run a check whose class is not 'same' a second time (harness.plugin.rerun); "
        "without the second run no check can be called flaky",
    )
    group.addoption(
        "--rerun-against",
        default=None,
        metavar="RUN_JSON",
        help="also run a second time every check that passes where this run's failed or deviated, "
        "or fails where it passed (the gate passes its baseline's run)",
    )
    group.addoption(
        "--changes",
        default="fail",
        choices=("fail", "warn"),
        help="a known deviation that now fails differently in a way no order ranks (class "
        "'changed'): fail the run (default) or report it for review and pass",
    )
    group.addoption(
        "--deviations",
        default=None,
        metavar="FILE",
        help="known-deviations file (default: harness/verdict/deviations/<gateway>-<version>.yaml, "
        "by the gateway's driver)",
    )
    group.addoption(
        "--gateway-config",
        "--litellm-config",
        dest="litellm_config",
        default=None,
        metavar="PATH",
        help="run the catalogue against your own gateway config, a file in its driver's own form "
        "(LiteLLM's config.yaml today: providers swapped for fakes, credentials for dummies); "
        "--litellm-config is its older name",
    )
    group.addoption(
        "--claude-code",
        action="append",
        default=None,
        metavar="VERSION",
        help="Claude Code version(s) for the end-to-end checks (repeatable; default: every "
        "profiled version in harness/claude_code/profiles)",
    )
    group.addoption(
        "--req",
        action="append",
        default=None,
        metavar="ID",
        help="run only the checks of this requirement (repeatable); the others are deselected",
    )
    group.addoption(
        "--kill-matrix",
        action="append",
        default=None,
        metavar="FAULT",
        help="with --gateway-impl reference: run the checks of the requirements FAULT promises to "
        "break once more, against the same gateways with FAULT switched on (repeatable; the "
        "kill matrix, harness.plugin.killmatrix)",
    )
    group.addoption(
        "--kill-matrix-all",
        action="store_true",
        help="each swept fault runs every check, not only its promised requirements'",
    )
    group.addoption(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where compat.json and compat.html are written (default: reports/)",
    )
    group.addoption("--no-report", action="store_true", help="write no compatibility report")
    group.addoption(
        "--providers",
        default="live",
        choices=("live", "scripted", "recorded"),
        help="how the fake providers answer the provider scenarios: from live recordings where a "
        "scenario has one, else its script (live, the default); from the harness's scripts only "
        "(scripted); or from cassettes/<provider>/ (recorded)",
    )
    group.addoption(
        "--proxy-port",
        default=None,
        type=int,
        metavar="PORT",
        help="fixed port for the default gateway's proxy (default: a free port)",
    )
    group.addoption(
        "--proxy-launch",
        default="fork",
        choices=forkserver.LAUNCH_MODES,
        help="'fork' (default): every proxy is forked from one process that imported LiteLLM once, "
        "then runs LiteLLM's own command line; 'exec': each proxy starts in an interpreter of "
        "its own (six CPU-seconds of import each)",
    )
    group.addoption(
        "--worker-launch",
        default="fork",
        choices=warmworkers.LAUNCH_MODES,
        help="'fork' (default): xdist's workers are forked from one process that imported their "
        "libraries once; 'exec': each worker starts in an interpreter of its own",
    )
    group.addoption(
        "--shuffle",
        default=None,
        type=int,
        metavar="SEED",
        help="run the checks in an order shuffled by SEED instead of longest first: a check that "
        "passes only after (or before) another is a bug this finds",
    )
