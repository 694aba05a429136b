"""YAML through libyaml's C loader and emitter where PyYAML was built with them, its pure-Python
ones otherwise.

Same documents either way (the safe subset, the same output for the same data); the C ones are five
to ten times cheaper, and a run parses the requirement catalogue, the deviations and the provider
rules in every worker and writes a gateway config for every proxy it starts.
"""

from __future__ import annotations

from typing import Any

import yaml

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str) -> Any:
    return yaml.load(text, Loader=LOADER)


def dump(data: Any, **options: Any) -> str:
    return str(yaml.dump(data, Dumper=DUMPER, **options))
