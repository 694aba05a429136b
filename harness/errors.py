"""Errors the harness raises for bad input: one clear paragraph, never a bare traceback."""

from __future__ import annotations


class HarnessError(Exception):
    """Bad input to the harness (config, binary, port, environment)."""


class ProxyStartError(HarnessError):
    """The gateway under test could not be started; the message carries its log tail."""
