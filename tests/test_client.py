"""The gateway client (harness.protocol.client): what it sends, and a client that leaves at a chosen
moment."""

from __future__ import annotations

import socket
import threading

import pytest

from harness.protocol.client import GatewayClient


@pytest.fixture
def silent_server():
    """A loopback server that reads each request and never answers; it keeps what it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                while chunk := conn.recv(65536):
                    got.append(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", got
    thread.join(timeout=5)


def test_a_client_that_leaves_hangs_up_once_the_moment_comes(silent_server):
    url, got = silent_server
    client = GatewayClient(url, "sk-test")
    ex = client.leave_pending("/v1/messages?beta=true", {"model": "m"}, until=lambda: got)
    assert ex.status == 0, "no answer"
    assert "unanswered" in ex.text
    assert b"POST /v1/messages?beta=true HTTP/1.1" in b"".join(got)


def test_a_moment_that_never_comes_is_a_failure_with_the_transcript(silent_server):
    url, _ = silent_server
    client = GatewayClient(url, "sk-test")
    with pytest.raises(
        AssertionError, match=r"never came within 0\.3 s(.|\n)*> POST .*/v1/messages"
    ):
        client.leave_pending("/v1/messages", {"model": "m"}, until=lambda: False, limit=0.3)
