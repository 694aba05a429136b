"""The wire of a failed check, kept in the run for a repro folder (``python -m harness repro``).

Only for a check that ran against a LiteLLM the harness started: its last client exchanges, the fake
providers' answers, and the wire facts (:mod:`harness.verdict.wirefacts`) the failure is recognised
by. Addresses and the master key are made portable here, so the run's JSON never carries the run's
key.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness import yamlio
from harness.fakes.journal import RecordedRequest
from harness.gateway.process import FIXED_ENV, LiteLLMProxy
from harness.gateway.reference import ReferenceGateway
from harness.plugin import observing
from harness.plugin.stash import CLIENTS
from harness.protocol import client
from harness.verdict import wirefacts

REPRO_KEY = "sk-repro-master-key"
LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")
MAX_EXCHANGES = 20  # a load or fuzz check sends hundreds; its last ones show what broke


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def _swap(text: str, secret: str | None) -> str:
    text = LOOPBACK.sub(f"http://127.0.0.1:{wirefacts.PROVIDER_PORT}", text)
    return text.replace(secret, REPRO_KEY) if secret else text


def gateway_record(target: LiteLLMProxy | ReferenceGateway) -> dict[str, Any]:
    """The gateway's config, environment and side files, with the fakes' addresses and the key made
    portable."""
    gateway, secret = target.gateway, target.master_key
    env = {
        k: _swap(v, secret)
        for k, v in gateway.env.items()
        if not k.lower().endswith(("_proxy", "ssl_cert_file"))
    }  # the harness's egress guard stays behind
    return {
        "name": gateway.name,
        "config_yaml": _swap(yamlio.dump(gateway.config, sort_keys=False), secret),
        "env": {**FIXED_ENV, **env},
        "files": {n: _swap(t, secret) for n, t in gateway.files.items()},
    }


def _exchange(ex: client.Exchange, secret: str | None) -> dict[str, Any]:
    url = urlsplit(ex.url)
    headers = {
        k: (v.replace(secret, REPRO_KEY) if secret else v) for k, v in ex.request_headers.items()
    }
    body = _body_bytes(ex.request_body)
    return {
        "method": ex.method,
        "path": url.path + (f"?{url.query}" if url.query else ""),
        "headers": headers,
        "body": None if body is None else _b64(body),
    }


def _answer(req: RecordedRequest) -> dict[str, Any]:
    chunks = req.response_chunks if req.response_chunks is not None else [req.response_body]
    return {
        "method": req.method,
        "path": req.path,
        "status": req.response_status,
        "headers": req.response_headers,
        "chunks": [_b64(c) for c in chunks],
        "streamed": req.response_chunks is not None,
        "pauses": req.response_pauses,
        "fault": req.fault,
    }


def snapshot(item: pytest.Item) -> dict[str, Any] | None:
    """The wire of a failed check, for a repro folder; None unless it ran against a gateway the
    harness started (LiteLLM, or the reference gateway: its repro folder starts the same one, faults
    included)."""
    target = item.funcargs.get("proxy") if hasattr(item, "funcargs") else None
    if not isinstance(target, LiteLLMProxy | ReferenceGateway):
        return None
    secret = target.master_key
    exchanges = [ex for c in item.stash.get(CLIENTS, []) for ex in c.exchanges][-MAX_EXCHANGES:]
    received = [r for p in item.stash.get(observing.PROVIDERS, []) for r in p.received()]
    received.sort(key=lambda r: r.received_at)
    received = received[-2 * MAX_EXCHANGES :]
    answers = [
        wirefacts.answer_facts(
            ex.status, {k.lower(): v for k, v in ex.headers.items()}, ex.content or ex.text.encode()
        )
        for ex in exchanges
    ]
    seen = [wirefacts.provider_facts(r.method, r.path, r.headers, r.raw_body) for r in received]
    return {
        "gateway": target.gateway.name,
        "exchanges": [_exchange(ex, secret) for ex in exchanges],
        "provider_answers": [_answer(r) for r in received],
        "facts": wirefacts.facts(answers, seen),
    }
