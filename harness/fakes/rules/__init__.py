"""What the real providers refuse, as data: one rules file per provider family, each rule with its
source.

A rule names what it refuses (a field, a value, a combination, a model family, an API
version or a beta), the provider's own status, error type and wording, where that was
learnt (a docs page, a recorded answer, a changelog), and a self-test: a patch that
breaks exactly this rule on the family's example request, and one that fixes it again.
The fakes (``harness.fakes``) judge every request they receive by these rules,
and journal which rule refused it.

Adding one from a provider's 400: docs/provider-rules.md.
"""

# The package's code is in rulebook.py (an __init__ holds no logic, issue 38); its names, here.
from harness.fakes.rules.rulebook import *  # noqa: F403
from harness.fakes.rules.rulebook import _betas as _betas
