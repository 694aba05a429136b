"""``python -m harness bisect CHECK... --good V1 --bad V2``: the first release that changed each
check.

The releases between V1 and V2 (LiteLLM's from the package index in version order, Claude Code's
from the npm registry, or a series file's) are binary-searched (``search.py``). Each step builds the
release's environment through the supply-chain guard (``harness.tools.envs``' cache) and runs the
named checks only, with ``--rerun-against`` V1's run, so a check that moved runs twice in its
session and a flake is named, not blamed on a release. V1 itself runs with the session's own reruns,
so a check flaky there is named too. Each check is judged against V1's run by the gate's own classes
(``harness.verdict``). Step runs are stored (``harness.tools.runstore``) under a key of the release,
the suite's source and the step's arguments, so repeating a bisect runs nothing again.
"""

# The package's code is in bisection.py (an __init__ holds no logic, issue 38); its names, here.
from harness.tools.user.bisect.bisection import *  # noqa: F403
from harness.tools.user.bisect.bisection import _outcome as _outcome
from harness.tools.user.bisect.bisection import _result as _result
from harness.tools.user.bisect.bisection import _swap as _swap
