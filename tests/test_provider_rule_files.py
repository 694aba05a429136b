"""The provider rules: each one refuses exactly what it says, through its fake, and lets the fixed
request through.

Each rule carries a self-test in its rules file: a patch that breaks exactly that rule on
the family's example request, and a patch that fixes it again. Here the broken request
goes over HTTP to the family's fake, which must answer the rule's refusal (status,
error type, wording) and journal the rule; the fixed one must be served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import yaml

from harness import tapes as cassettes
from harness.claude_code import CapturedRequest, captured_requests, load_profiles
from harness.fakes import FakeAnthropic, FakeOpenAI, Reply, TokenCount
from harness.fakes.bedrock import OPS, FakeBedrock
from harness.fakes.bedrock import PATH as BEDROCK_PATH
from harness.fakes.rules import DIRECTORY as RULES_DIRECTORY
from harness.fakes.rules import (
    Family,
    Rule,
    all_rules,
    call_for,
    call_of,
    families,
    judge,
    self_test,
    wire,
)
from harness.fakes.server import FakeProvider
from harness.fakes.strict import family_for
from harness.fakes.vertex import FakeVertex

CASES = [
    pytest.param(family, rule, id=f"{family.name}:{rule.id}")
    for family in families().values()
    for rule in family.rules
]


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeProvider]]:
    started: dict[str, FakeProvider] = {
        f.name: f.start() for f in (FakeAnthropic(), FakeOpenAI(), FakeBedrock(), FakeVertex())
    }
    yield started
    for fake in started.values():
        fake.stop()


def _send(fake: FakeProvider, request: dict[str, Any]) -> httpx.Response:
    path, headers, content = wire(request)
    return httpx.post(fake.url + path, content=content, headers=headers, timeout=10)


def _refusal_of(family: Family, response: httpx.Response) -> dict[str, Any]:
    """The refusal as the provider's envelope carries it: status, type, message (and OpenAI's param,
    code)."""
    body = response.json()
    if family.fake == "bedrock":
        return {
            "status": response.status_code,
            "type": response.headers["x-amzn-ErrorType"].split(":")[0],
            "message": body["message"],
        }
    if family.fake == "openai":
        error = body["error"]
        return {
            "status": response.status_code,
            "type": error["type"],
            "message": error["message"],
            "param": error["param"],
            "code": error["code"],
        }
    if "type" not in body:  # Google's own envelope (an unknown publisher model)
        return {
            "status": body["error"]["code"],
            "type": body["error"]["status"],
            "message": body["error"]["message"],
        }
    assert body["type"] == "error", body
    return {
        "status": response.status_code,
        "type": body["error"]["type"],
        "message": body["error"]["message"],
    }


def _expected(
    rule: Rule, family: Family, request: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    """The rule's refusal, worded for this request (with what the fake read off its path: project,
    location)."""
    judged = judge(family.name, replace(call_of(family, request), labels=labels))
    assert judged is not None, "the broken request breaks no rule"
    assert judged[0].id == rule.id, f"the broken request breaks {judged[0].id} first"
    error = judged[1]
    return {
        "status": error.status,
        "type": error.type,
        "message": error.message,
        **dict(error.fields),
    }


@pytest.mark.parametrize(("family", "rule"), CASES)
def test_each_rule_refuses_its_broken_request_and_serves_it_fixed(
    fakes, family: Family, rule: Rule
):
    fake = fakes[family.fake]
    fake.reset()
    broken, fixed = self_test(family, rule)
    refused = _send(fake, broken)
    assert fake.last().labels.get("rule") == rule.id, fake.last().answer
    assert fake.last().answer.startswith(f"refused by provider rule {rule.id} (")
    observed = _refusal_of(family, refused)
    assert observed == {
        k: v
        for k, v in _expected(rule, family, broken, fake.last().labels).items()
        if k in observed
    }
    assert rule.id not in observed["message"]  # the provider's own wording, not the harness's

    fake.reset()
    fake.script(
        fixed["route"], TokenCount(3) if fixed["route"] == "count_tokens" else Reply.text("served")
    )
    served = _send(fake, fixed)
    assert served.status_code == 200, served.text
    assert fake.last().answer == "scripted"
    assert "rule" not in fake.last().labels


def test_there_are_at_least_40_rules_across_the_five_families():
    ids = [r.id for r in all_rules()]
    own = {r.id for f in families().values() for r in f.rules if r.id not in f.inherited}
    assert len(own) >= 40
    assert len(own) == len(
        {(f.name, r.id) for f in families().values() for r in f.rules if r.id not in f.inherited}
    )
    assert {f.name for f in families().values()} == {
        "anthropic",
        "bedrock-invoke",
        "bedrock-converse",
        "vertex",
        "openai",
    }
    assert set(ids) == own


def test_every_rule_has_a_source_a_refusal_and_a_test():
    for rule in all_rules():
        assert rule.source, rule.id
        assert rule.test, rule.id
        assert {"break", "fix"} <= set(rule.test), rule.id
        assert 400 <= rule.status < 500, rule.id
        assert rule.wording in ("confirmed", "unconfirmed"), rule.id


def test_the_rules_files_are_valid_json_compatible_yaml():
    """Every rules file, whole, round-trips through JSON unchanged: no YAML-only type (a date, a
    set, a tag)."""
    files = sorted(RULES_DIRECTORY.glob("*.yaml"))
    assert {f.stem for f in files} >= {
        "anthropic",
        "bedrock-invoke",
        "bedrock-converse",
        "vertex",
        "openai",
    }
    for path in files:
        data = yaml.safe_load(path.read_text())
        assert json.loads(json.dumps(data)) == data, f"{path.name} holds a value JSON cannot carry"


def _judged(
    fake: str, route: str, model: str | None, headers: dict[str, str], body: Any
) -> tuple[Rule, Any] | None:
    family = family_for(fake, route)
    assert family is not None, f"no rules family for {fake} {route}"
    return judge(family, call_for(family, route, headers, body, model))


PROFILED = [
    pytest.param(r, id=f"{r.version}-{r.mode}")
    for p in load_profiles()
    for r in captured_requests(p)
]


@pytest.mark.parametrize("captured", PROFILED)
def test_every_captured_claude_code_request_keeps_its_providers_rules(captured: CapturedRequest):
    """A request the real CLI sent, in each mode, is one the real provider served: a rule refusing
    it is wrong."""
    fake = "anthropic" if captured.mode == "anthropic" else captured.mode
    model = None if captured.mode == "anthropic" else captured.model
    judged = _judged(fake, captured.route, model, captured.headers, captured.body)
    assert judged is None, f"{judged[0].id}: {judged[1].message}" if judged else ""


def _route_of(provider: str, method: str, path: str) -> tuple[str | None, str | None]:
    """The fake's route for a recorded request, and the model id a Bedrock path carries."""
    if provider == "bedrock":
        found = BEDROCK_PATH.match(path) if method == "POST" else None
        return (OPS[found["op"]], unquote(found["model"])) if found else (None, None)
    fake_cls = {"anthropic": FakeAnthropic, "openai": FakeOpenAI}[provider]
    return fake_cls.routes.get((method, path)), None


def _recorded() -> list[Any]:
    out = []
    for name in cassettes.names():
        tape = cassettes.load(name)
        for n, interaction in enumerate(tape.interactions):
            out.append(pytest.param(tape, interaction, id=f"{tape.name}#{n}"))
    return out


@pytest.mark.parametrize(("tape", "interaction"), _recorded())
def test_every_cassette_request_is_judged_as_the_provider_judged_it(tape, interaction):
    """A recorded request the provider served keeps every rule; one it refused for its body breaks a
    rule that answers the same status and error type."""
    request = interaction.request
    if not request.body:
        pytest.skip("the source recorded the answer only (provenance: changes)")
    route, model = _route_of(tape.provider, request.method, request.path)
    if route is None or family_for(tape.provider, route) is None:
        pytest.skip(f"{request.method} {request.path} takes no body the rules judge")
    headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in request.headers.items()}
    body = json.loads(request.body) if request.body else None
    judged = _judged(tape.provider, route, model, headers, body)
    status = interaction.response["status"]["code"]
    if status < 400 or status in (401, 403):
        assert judged is None, (
            f"the provider served this request ({status}), yet {judged[0].id} refuses it"
            if judged
            else ""
        )
        return
    answer = json.loads(interaction.response["body"]["string"])
    error = answer.get("error") or answer  # Bedrock's envelope is the bare {"message"}
    assert judged is not None, (
        f"the provider refused this request ({status} {error}), and no rule does"
    )
    rule, refusal = judged
    # Bedrock's error type travels in x-amzn-ErrorType, which not every source kept; its message
    # is in the body.
    observed = (status, error.get("type") or refusal.type)
    assert (refusal.status, refusal.type) == observed, f"{rule.id} answers differently"


def test_provider_rules_check_passes_and_fails_on_a_rule_without_source_or_test(capsys):
    from harness.tools.cli import main
    from harness.tools.maintainer.rules_cli import problems

    assert main(["provider-rules", "check"]) == 0
    family = families()["anthropic"]
    bare = replace(family.rules[0], source="", test=None)
    assert problems(family, bare) == ["no source", "no self-test (test: {break: ..., fix: ...})"]
    wrong = replace(family.rule("ANTH-PARAM-003"), test=family.rule("ANTH-PARAM-004").test)
    assert problems(family, wrong) == ["its broken request is refused by ANTH-PARAM-004, not by it"]
    assert main(["provider-rules", "list"]) == 0
    assert "ANTH-FIELD-001" in capsys.readouterr().out
