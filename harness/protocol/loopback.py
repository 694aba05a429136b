"""httpx clients for loopback, made cheap: one TLS context for the process, not one per client.

httpx builds a fresh ``ssl.SSLContext`` for every ``Client`` and ``HTTPTransport`` and loads the
system's CA bundle into it: about 30 ms of CPU each. The harness talks plain HTTP on 127.0.0.1 and
makes a client per check, per probe and (in the reference gateway) per forwarded request, so that
was a tenth of its CPU.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx


@cache
def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` that ignores proxy variables (nothing here leaves loopback) and shares
    the TLS context."""
    kwargs.setdefault("trust_env", False)
    return httpx.Client(verify=tls_context(), **kwargs)


def transport(**kwargs: Any) -> httpx.HTTPTransport:
    return httpx.HTTPTransport(verify=tls_context(), **kwargs)
