"""Timing checks judge the best of up to three tries, and report every try.

Issue 38: on a loaded 2-core runner (eight workers, each with its proxy) STREAM-008 and STREAM-011
failed about one full run in seventeen: 528 ms added against a 500 ms bound, events spread over
0.64 s where the provider took 1.75 s. Load on the machine only ever adds delay or bunches events
into one read; a gateway that holds events back does it on every try (the reference gateway's
``buffer-stream`` fault fails all three). So a try within the bound ends the check, and a check
that fails has failed three times. Sporadic stalls under load are LOAD's to judge, not these
checks'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

TRIES = 3


def best_try(
    attempt: Callable[[], T],
    shortfall: Callable[[T], float],
    observe: Any,
    name: str,
    tries: int = TRIES,
) -> T:
    """Run ``attempt`` until ``shortfall`` of its result is <= 0, at most ``tries`` times.

    Returns the result with the least shortfall; ``observe`` records every try's shortfall.
    """
    tried: list[tuple[float, T]] = []
    for _ in range(tries):
        result = attempt()
        tried.append((shortfall(result), result))
        if tried[-1][0] <= 0:
            break
    observe(f"{name}: shortfall per try", [round(s, 3) for s, _ in tried], volatile=True)
    return min(tried, key=lambda t: t[0])[1]
