"""Loads the harness plugin; everything else lives in harness/."""

import pytest

# Before the plugin is imported, so the harness's own asserts get pytest's rich messages.
pytest.register_assert_rewrite("harness")

pytest_plugins = ["harness.plugin"]
