"""The tools, top layer: the command line, the gate, environments, bench, repro, recording, capture,
supply chain."""
