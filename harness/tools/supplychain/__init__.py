"""The supply-chain guard: what the gate checks before and after it installs a LiteLLM to test.

Installing a compromised release runs its implant, because a ``.pth`` line that starts
with ``import``, or a ``sitecustomize.py``, runs at every Python start. So the guard:

- refuses the releases listed in ``compromised.yaml`` (each with its source) before anything
  is downloaded;
- installs by hash: every distribution file is downloaded as a wheel (an sdist would run its
  build code), hashed, and installed with ``--require-hashes`` from those files alone;
- scans the environment afterwards *without starting its Python*: a ``.pth`` that runs code
  (bar setuptools' own), any ``sitecustomize.py`` or ``usercustomize.py``, and any file that no
  installed distribution's RECORD lists. A hit stops the gate before the environment is used.
"""

# The package's code is in guard.py (an __init__ holds no logic, issue 38); its names, here.
from harness.tools.supplychain.guard import *  # noqa: F403
