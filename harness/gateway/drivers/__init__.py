"""Gateway drivers: one module per gateway implementation, like wptrunner's ``products/``.

A driver (issue 41) says what its gateway serves (its capabilities, which a check's
``needs(...)`` is held to), how the run names it, how its gateways start from the harness's
configs, whether it takes the reference gateway's faults, and which known-deviations file its runs
are held to. The pool, the plugin and the tools ask the driver; none of them branches on a
gateway's name.

Adding a gateway is one module here that calls :func:`register` (and its page in
``docs/gateways.md``); a driver kept elsewhere is loaded with ``--gateway-driver MODULE``.
"""

from harness.gateway.drivers.base import (
    Driver,
    Impl,
    Launch,
    driver,
    load,
    names,
    parse_impl,
    register,
)

__all__ = ["Driver", "Impl", "Launch", "driver", "load", "names", "parse_impl", "register"]
