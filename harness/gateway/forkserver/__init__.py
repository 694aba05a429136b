"""One fork server per LiteLLM interpreter: the proxies of a run share one import of LiteLLM.

The same program (``zygote.py``) with its ``workers`` profile forks the run's xdist workers
(:mod:`harness.plugin.warmworkers`): one fork server, two profiles.

Importing ``litellm.proxy.proxy_server`` costs about six CPU-seconds on a 2-core machine, and a run
starts a dozen proxies or more: most of the suite's start-up was that one import, done a dozen times
at once. The fork server (``zygote.py``, run by the interpreter under test) does it once and forks
each proxy from there; each child then runs LiteLLM's own command line, unchanged.

The pytest process that runs the checks starts it; on an xdist run the controller starts it and its
workers connect to it (its socket is in ``CC_GATEWAY_FORKSERVERS``), so the import happens once per
run, not once per worker. ``--proxy-launch exec`` keeps one interpreter per proxy, and the launcher
falls back to it by itself where the fork server cannot help: no ``os.fork``, or an environment
where the preload failed (each proxy's own start then shows the error in its own log, as before).
"""

# The package's code is in servers.py (an __init__ holds no logic, issue 38); its names, here.
from harness.gateway.forkserver.servers import *  # noqa: F403
from harness.gateway.forkserver.servers import _SERVERS as _SERVERS
