"""``python -m harness provider-rules list | check``: the rules with their sources, and whether each
can be trusted."""

from __future__ import annotations

import argparse

from harness.fakes.rules import Family, Rule, call_of, families, judge, self_test


def problems(family: Family, rule: Rule) -> list[str]:
    """What keeps a rule from being trusted: no source, no self-test, or a self-test that does not
    hold."""
    found = [] if rule.source else ["no source"]
    if not rule.test or not {"break", "fix"} <= set(rule.test):
        return [*found, "no self-test (test: {break: ..., fix: ...})"]
    broken, fixed = self_test(family, rule)
    refused = judge(family.name, call_of(family, broken))
    if refused is None or refused[0].id != rule.id:
        found.append(
            f"its broken request is refused by {refused[0].id if refused else 'no rule'}, not by it"
        )
    served = judge(family.name, call_of(family, fixed))
    if served is not None:
        found.append(f"its fixed request is still refused, by {served[0].id}")
    return found


def cmd_list(args: argparse.Namespace) -> int:
    for family in families().values():
        if args.family and family.name != args.family:
            continue
        print(f"{family.title} ({family.name}; routes {', '.join(family.routes)})")
        for rule in family.rules:
            taken = (
                " (Anthropic's rule, in this provider's envelope)"
                if rule.id in family.inherited
                else ""
            )
            wording = "" if rule.wording == "confirmed" else " [wording unconfirmed]"
            print(
                f"  {rule.id}  {rule.about}{taken}\n"
                f"      refuses with {rule.status} {rule.type}{wording}"
                f"\n      source: {rule.source}"
            )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    bad = 0
    total = 0
    for family in families().values():
        for rule in family.rules:
            total += 1
            for problem in problems(family, rule):
                bad += 1
                print(f"{family.name} {rule.id}: {problem}")
    own = {r.id for f in families().values() for r in f.rules}
    print(
        f"{len(own)} rules ({total} with those applied in another provider's envelope) "
        f"in {len(families())} families: {'ok' if not bad else f'{bad} problem(s)'}"
    )
    return 1 if bad else 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser(
        "provider-rules", help="what the fake providers refuse, as the real ones do: list | check"
    )
    rsub = rules.add_subparsers(dest="action", required=True)
    lst = rsub.add_parser("list", help="every rule with what it refuses, how, and its source")
    lst.add_argument("--family", default=None, choices=sorted(families()))
    lst.set_defaults(func=cmd_list)
    chk = rsub.add_parser(
        "check", help="fail on a rule without a source or a self-test, or whose self-test fails"
    )
    chk.set_defaults(func=cmd_check)
