"""The conformance checks: one module per area, each check a requirement of the catalogue."""
