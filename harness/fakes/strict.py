"""Fakes as strict as the real providers: each request is judged by its provider family's rules.

The rules are data, one file per family, each rule with its source
(:mod:`harness.fakes.rules`). A fake answers a request a rule refuses with that
rule's status, error type and wording, and journals the rule's id in the request's
labels (``rule``) and its answer ("refused by provider rule ANTH-PARAM-007 (source)"),
so a check's evidence says which rule refused and why.

A cassette is the truth where it exists: a replayed answer is never second-guessed.
A check may loosen a fake on purpose with ``@pytest.mark.lenient_provider("why")``;
the report shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.fakes.rules import Rule, call_for, families, judge
from harness.fakes.script import HttpError

if TYPE_CHECKING:
    from harness.fakes.journal import RecordedRequest


def family_for(fake: str, route: str | None) -> str | None:
    """The rules family a fake's route belongs to (Bedrock has two: InvokeModel and Converse)."""
    return next((f.name for f in families().values() if f.fake == fake and route in f.routes), None)


def refusal(fake: str, request: RecordedRequest) -> tuple[Rule, HttpError] | None:
    """The first rule the request breaks, with the provider's refusal; None if the provider would
    serve it."""
    family = family_for(fake, request.route)
    if family is None or request.route is None:
        return None
    call = call_for(
        family,
        request.route,
        request.headers,
        request.body,
        request.labels.get("model"),
        request.labels,
    )
    return judge(family, call)
