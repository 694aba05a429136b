"""A scripted answer the gateway never asked for fails the check at teardown (respx's
assert_all_called)."""

from __future__ import annotations

CHECKS = """
import httpx
from harness.fakes import Reply, TokenCount

def test_unused_answer(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("nobody asks for this"))

def test_optional_answer(anthropic_provider):
    anthropic_provider.script("count_tokens", TokenCount(3), optional=True)

def test_answer_for_every_request(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("any number of times"), times=None)

def test_already_failed(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("left over"))
    assert False, "the check's own failure"

def test_answer_used(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("asked for"))
    got = httpx.post(anthropic_provider.url + "/v1/messages", trust_env=False,
                     headers={"x-api-key": "sk-ant-fake", "anthropic-version": "2023-06-01"},
                     json={"model": "claude-sonnet-4-5", "max_tokens": 8,
                           "messages": [{"role": "user", "content": "hi"}]})
    assert got.status_code == 200, got.text
"""


def test_an_unused_scripted_answer_fails_the_check(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(CHECKS)
    result = pytester.runpytest("-p", "harness.plugin", "-p", "no:cacheprovider", "-n", "0")
    # The unused answer errs at teardown; the optional, the unlimited and the used pass; a failed
    # check is not failed twice.
    result.assert_outcomes(passed=4, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused_answer*",
            "*UnusedScriptError: fake anthropic provider was scripted answers "
            "the gateway never asked for*",
            "*messages: Reply(*nobody asks for this*(1 left)*",
        ]
    )
