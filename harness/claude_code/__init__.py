"""What Claude Code sends, per version, from the profiles captured from the real CLI.

``python -m harness capture-claude-code --version X`` runs ``claude -p`` against a
journalling fake provider and writes ``profiles/X.json``; nothing here is typed
in by hand except the quickstart's own table, kept to show where it is outdated.
"""

# The package's code is in facts.py (an __init__ holds no logic, issue 38); its names, here.
from harness.claude_code.facts import *  # noqa: F403
