"""Known deviations: the checks a gateway version is known to fail, and exactly how it fails them.

Each entry names one check, the requirement it states, a human explanation
(``observed``) and a *fingerprint*: the observation (see :mod:`harness.verdict.fingerprint`)
the check made when the deviation was recorded by ``python -m harness deviations
record``. At run time a listed check's observation is compared with its fingerprint, field by
field (:mod:`harness.verdict`), and the check gets a class:

- **same**: it fails exactly as recorded: the known deviation (shown as xfail);
- **improved**: it still fails, but every field that moved got better: good news, shown as xfail,
  and the entry is stale (``python -m harness deviations accept``);
- **fixed**: it passes: good news, a pass, and the entry is stale;
- **regressed**, **changed**, **security**: it fails worse, or differently: a failure, shown beside
  the recorded fingerprint with each moved field's arrow (``--changes warn`` lets ``changed``
  through).

A file may also hold ``waivers``: a security change accepted by a person, with a reason and an
expiry date. Nothing else, re-recording included, lets a security change through.

``--no-deviations`` shows the raw results.
"""

# The package's code is in entries.py (an __init__ holds no logic, issue 38); its names, here.
from harness.verdict.deviations.entries import *  # noqa: F403
from harness.verdict.deviations.entries import _read as _read
