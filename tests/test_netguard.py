"""The network guard keeps the test process on loopback and says so loudly."""

from __future__ import annotations

import socket

import httpx
import pytest

from harness import netguard
from harness.plugin.stash import GUARD


@pytest.fixture
def attempts(pytestconfig):
    """This session's refused attempts (the guard lives in the session's stash, not in a module)."""
    return pytestconfig.stash[GUARD].attempts


@pytest.fixture
def forgiven(attempts):
    """Forget this test's own deliberate attempts so the autouse guard does not fail it."""
    before = len(attempts)
    yield
    del attempts[before:]


def test_guard_is_installed_during_tests(pytestconfig):
    assert netguard.installed() is pytestconfig.stash[GUARD]


@pytest.mark.parametrize(
    "address",
    [("10.255.255.1", 443), ("8.8.8.8", 53), ("api.anthropic.com", 443)],
    ids=["private", "public", "hostname"],
)
def test_non_loopback_connect_is_refused(forgiven, attempts, address):
    with (
        socket.socket() as s,
        pytest.raises(netguard.NetworkGuardError, match="only reach loopback"),
    ):
        s.connect(address)
    assert attempts[-1].startswith(address[0])


def test_httpx_to_a_real_provider_fails_with_the_guard_message(forgiven):
    with pytest.raises(httpx.ConnectError, match="network guard"):
        httpx.get("https://1.1.1.1/v1/messages", timeout=2)


def test_loopback_is_allowed(anthropic_provider):
    with socket.create_connection(("127.0.0.1", anthropic_provider.port), timeout=2) as conn:
        assert conn.getpeername() == ("127.0.0.1", anthropic_provider.port)


def test_a_swallowed_attempt_still_fails_the_test(pytester, forgiven):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import contextlib, socket
        def test_sneaky():
            with contextlib.suppress(OSError), socket.socket() as s:
                s.connect(("203.0.113.9", 80))
        """
    )
    result = pytester.runpytest("-p", "harness.plugin")
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(["*network guard: this test tried to reach 203.0.113.9:80*"])


def test_a_nested_session_leaves_the_outer_guard_in_place(pytester, pytestconfig):
    """pytest run inside pytest (pytester, the deviations check's collection) must not lift the
    guard."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    pytester.runpytest("-p", "harness.plugin").assert_outcomes(passed=1)
    assert netguard.installed() is pytestconfig.stash[GUARD]
