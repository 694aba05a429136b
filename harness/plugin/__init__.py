"""The pytest plugin: options, markers, the network guard, requirement checks and evidence.

The root ``conftest.py`` loads this module and nothing else.
"""

# The package's code is in hooks.py (an __init__ holds no logic, issue 38); its names, here.
from harness.plugin.hooks import *  # noqa: F403

# pytest finds a plugin's fixtures among its module's names, the private autouse ones too.
from harness.plugin.hooks import _no_network_escape as _no_network_escape
from harness.plugin.hooks import _observe_the_wire as _observe_the_wire
