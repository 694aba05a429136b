"""The egress proxy: the only way out of the provider-route gateway, and a guard for everything
else."""

from __future__ import annotations

import ssl

import httpx
import pytest

from harness.fakes import Reply, egress
from harness.fakes.vertex import VERTEX_HOSTS, FakeVertex

VERTEX_URL = (
    "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/"
    "models/claude-x:rawPredict"
)
METADATA = "http://169.254.169.254/latest/meta-data/iam/"
BODY = {
    "anthropic_version": "vertex-2023-10-16",
    "max_tokens": 8,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture
def vertex():
    fake = FakeVertex().start()
    yield fake
    fake.stop()


@pytest.fixture
def escapes():
    return []


@pytest.fixture
def proxy(vertex, escapes):
    started = egress.start({VERTEX_HOSTS: vertex.url}, on_escape=escapes.append)
    yield started
    started.stop()


def _client(proxy) -> httpx.Client:
    return httpx.Client(
        proxy=proxy.url, verify=ssl.create_default_context(cafile=str(proxy.ca_file)), timeout=10
    )


def test_a_hard_coded_vertex_host_reaches_the_fake_over_tls_from_the_session_ca(proxy, vertex):
    vertex.script("raw_predict", Reply.text("through the tunnel"))
    with _client(proxy) as client:
        response = client.post(VERTEX_URL, json=BODY)
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "through the tunnel"
    assert vertex.last("raw_predict").header("host") == "us-east5-aiplatform.googleapis.com"
    assert [t.host for t in proxy.tunnels] == ["us-east5-aiplatform.googleapis.com"]


def test_a_tunnel_to_anywhere_else_is_refused_and_reported(proxy, escapes):
    with _client(proxy) as client, pytest.raises(httpx.ProxyError, match="403"):
        client.get("https://api.anthropic.com/v1/messages")
    assert escapes == ["api.anthropic.com:443 (from the proxy process, through the egress proxy)"]


def test_a_plain_http_request_is_refused_and_reported(proxy, escapes):
    with _client(proxy) as client:
        response = client.get(METADATA)
    assert response.status_code == 403
    assert escapes == [f"{METADATA} (from the proxy process, through the egress proxy)"]


def test_a_client_that_does_not_trust_the_session_ca_is_refused_the_handshake(proxy, vertex):
    with httpx.Client(proxy=proxy.url, timeout=10) as client, pytest.raises(httpx.ConnectError):
        client.post(VERTEX_URL, json=BODY)
    assert vertex.received() == []


def test_its_environment_sends_only_non_loopback_traffic_through_it(proxy):
    env = proxy.env()
    assert env["HTTPS_PROXY"] == proxy.url
    assert env["SSL_CERT_FILE"] == str(proxy.ca_file)
    assert set(env["NO_PROXY"].split(",")) == {"127.0.0.1", "localhost"}
