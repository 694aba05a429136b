"""The fake Vertex AI: Anthropic's models on ``rawPredict`` / ``streamRawPredict``, and the OAuth
token endpoint.

LiteLLM authenticates to Vertex with google-auth: it signs a JWT with the service
account's key and posts it to the account's ``token_uri``, here this fake's ``/token``,
which answers a bearer token. Each prediction request is labelled with the project,
location and model in its path and with whether it carried that token.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.fakes.anthropic import FakeAnthropic
from harness.fakes.journal import RecordedRequest, WireResponse
from harness.fakes.script import HttpError, Scripted

# The Vertex pass-through's upstream, hard-coded in LiteLLM: reached only through the egress proxy.
VERTEX_HOSTS = "*aiplatform.googleapis.com"
PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/anthropic/models/"
    r"(?P<model>[^/:]+):(?P<op>rawPredict|streamRawPredict)$"
)


@functools.cache
def _throwaway_key() -> str:
    """One RSA key per process: making one costs 0.1-0.5 CPU-s, and a run builds a gateway config
    dozens of times."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account(token_uri: str, project: str) -> dict[str, Any]:
    """A throwaway service account whose token endpoint is the fake (its key is made in this
    process)."""
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(8),
        "private_key": _throwaway_key(),
        "client_email": f"conformance@{project}.iam.gserviceaccount.com",
        "client_id": "1" * 21,
        "token_uri": token_uri,
        "auth_uri": token_uri,
    }


class FakeVertex(FakeAnthropic):
    """Renders replies exactly as the fake Anthropic does: Vertex answers in Anthropic's JSON and
    SSE."""

    name = "vertex"
    routes: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "rawPredict"): "raw_predict",
        ("POST", "streamRawPredict"): "stream_raw_predict",
        ("POST", "count-tokens"): "count_tokens",
        ("POST", "/token"): "token",
    }

    def __init__(self) -> None:
        super().__init__()
        self.token = "ya29.fake-vertex-" + secrets.token_hex(12)

    def route_for(self, request: RecordedRequest) -> str | None:
        if request.method == "POST" and request.path == "/token":
            return "token"
        match = PATH.match(request.path) if request.method == "POST" else None
        if match is None:
            return None
        request.labels.update(
            project=match["project"], location=match["location"], model=match["model"]
        )
        auth = request.header("authorization") or ""
        request.labels["auth"] = (
            "issued token"
            if auth == f"Bearer {self.token}"
            else "none"
            if not auth
            else "another credential"
        )
        if match["model"] == "count-tokens":
            return "count_tokens"
        return "raw_predict" if match["op"] == "rawPredict" else "stream_raw_predict"

    def render(self, request: RecordedRequest, item: Scripted) -> WireResponse:
        if isinstance(item, HttpError) and item.type.isupper():
            # Google's own refusals (an unknown publisher model) come in Google's envelope, not
            # Anthropic's.
            return WireResponse.json(
                {"error": {"code": item.status, "message": item.message, "status": item.type}},
                item.status,
            )
        return super().render(request, item)

    def handle(self, request: RecordedRequest) -> WireResponse:
        if request.path == "/token" and request.method == "POST":
            # The gateway's own housekeeping: answered always, journalled, never scripted by a test.
            with self._lock:
                self.requests.append(request)
            request.route, request.answer = "token", "standing"
            return WireResponse.json(
                {"access_token": self.token, "expires_in": 3600, "token_type": "Bearer"}
            )
        return super().handle(request)


def credentials_json(token_uri: str, project: str) -> str:
    return json.dumps(service_account(token_uri, project))
