"""``python -m harness bench``: what the gateway adds to Claude Code's latency, direct vs through
LiteLLM.

One fake Anthropic provider on loopback, one LiteLLM proxy in front of it (one deployment, LiteLLM's
defaults: the quickstart's shape), and the same requests sent both ways in one interleaved run, so
machine noise lands on both sides alike and the ratios hold. It measures, at concurrency 1, 8 and
32: non-streamed latency, streamed time to first byte, total stream time and the delay added per
event; then throughput with the pool saturated, the proxy's CPU time per request and its RSS, and
LiteLLM's own ``x-litellm-overhead-duration-ms`` beside the overhead measured. Each figure is given
as the median over ``--repeats`` repeats with the spread (min, max), so a reader sees how much it
can be trusted.
"""

# The package's code is in latency.py (an __init__ holds no logic, issue 38); its names, here.
from harness.tools.perf.bench.latency import *  # noqa: F403
from harness.tools.perf.bench.latency import _aggregate as _aggregate
from harness.tools.perf.bench.latency import _one_level as _one_level
from harness.tools.perf.bench.latency import _rss_mb as _rss_mb
