"""Repro folders: one failing check, self-contained, that a LiteLLM maintainer can run with one
command.

When a check fails or deviates, the harness snapshots what crossed the wire (``snapshot``): the
client's requests, the fake providers' answers, and the facts the failure is recognised by. The
gateway's config is kept once per run (``gateway_record``).
``python -m harness repro CHECK --run RUN.json`` then writes a folder (``write_folder``) with the
config, the requests as curl commands and JSON, the provider's answers, ``repro.py`` (a copy of
:mod:`harness.tools.user.repro.replay`, standard library only), and a README with expected vs
observed and the versions.
"""

# The package's code is in folder.py (an __init__ holds no logic, issue 38); its names, here.
from harness.tools.user.repro.folder import *  # noqa: F403
