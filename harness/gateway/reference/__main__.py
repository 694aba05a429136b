"""The reference gateway on its own, from a config file: what a repro folder of a reference run
starts.

    python -m harness.gateway.reference --config config.yaml --port 4000
        [--faults drop-beta,leak-key]

The environment supplies the config's ``os.environ/`` references, as it does for LiteLLM.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import yaml

from harness.gateway.configs import GatewayConfig
from harness.gateway.reference.config import ReferenceConfig
from harness.gateway.reference.server import ReferenceServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.gateway.reference",
        description=" ".join(__doc__.split("\n\n")[0].split()),
    )
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--faults", default="", help="comma-separated faults (harness.gateway.reference.faults)"
    )
    args = parser.parse_args(argv)
    gateway = GatewayConfig("reference", yaml.safe_load(args.config.read_text()), dict(os.environ))
    faults = frozenset(f for f in args.faults.split(",") if f)
    server = ReferenceServer(
        ReferenceConfig.from_gateway(gateway, faults),
        args.config.with_name("gateway.log"),
        args.port,
    )
    print(
        f"reference gateway{' with ' + args.faults if faults else ''} on http://127.0.0.1:{args.port}",
        flush=True,
    )
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
