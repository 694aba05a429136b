"""Recorded provider traffic: vcrpy cassettes under ``cassettes/<provider>/<scenario>.yaml``.

The format is vcrpy's own, written and read through vcrpy (its filesystem persister
and YAML serializer): ``interactions`` of request and response, plus vcrpy's
cassette ``metadata``, where each cassette keeps its *provenance* (when and from
where it was recorded, which provider model, the harness revision, how to match
requests). A streamed body keeps its exact bytes; the response's ``chunks`` entry
(``[[seconds before the chunk, its length], ...]``) keeps the pacing, so a paced
stream replays paced.
"""

# The package's code is in tape.py (an __init__ holds no logic, issue 38); its names, here.
from harness.tapes.tape import *  # noqa: F403
from harness.tapes.tape import _validate as _validate
