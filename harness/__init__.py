"""The conformance harness for Claude Code gateways, in layers; each imports only the ones below it.

    tools/        the command line and offline tools: gate, environments, bench, repro, recording,
                  capture
    plugin/       the pytest layer: options, markers, collection, fixtures, scheduling, stash keys,
                  evidence
    report/       rendering a run (HTML, JUnit) from its JSON
    verdict/      the requirements catalogue, fingerprints, known deviations, classes and run
                  comparison
    gateway/      the gateway under test: configs, the LiteLLM process and fork server, the
                  reference gateway
    fakes/        the fake providers: a journalling server base, one module per provider, scripts,
                  strictness
    protocol/     the protocol as Claude Code speaks it: the gateway client, the CLI driver,
                  validators
    tapes/        the tape (cassette) library: format, matching, scrubbing
    claude_code/  Claude Code profile data: what each version sends
    netguard, errors   the network guard and the harness's error types, used by every layer

The contracts in ``pyproject.toml`` ([tool.importlinter]) enforce the order; docs/layout.md gives
each reason.
"""
