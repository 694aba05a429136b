"""The upgrade gate on both axes: LiteLLM versions x Claude Code versions, one command, one report.

    python3 dev.py gate --litellm 1.77.7 1.108.7 newest --claude-code 2.0.77 2.1.330 2.1.332 \\
        --baseline 1.108.7/2.1.332 [--candidate newest/2.1.332] [--min-age-days 3]

For each Claude Code version: its publish age is checked (``--min-age-days``), the CLI is installed,
and a version with no profile is captured on the spot into the gate's own folder. For each LiteLLM
version: the environment is built through the supply-chain guard, and the suite runs **once**, with
every Claude Code version's checks in it; the run is then split into one cell per Claude Code
version (``harness.tools.user.gate.grid``). The exit code is 1 when the candidate pair regresses
against the baseline pair.
"""

# The command lives in command.py, its options in options.py (a package's __init__ holds no logic);
# these are their public names.
from harness.tools.user.gate.command import rerunnable, run
from harness.tools.user.gate.options import DEFAULT_LITELLM, Options, check_versions

__all__ = ["DEFAULT_LITELLM", "Options", "check_versions", "rerunnable", "run"]
