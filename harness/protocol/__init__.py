"""The protocol as Claude Code speaks it: the gateway client, the Claude Code CLI driver,
validators, feature rows."""
