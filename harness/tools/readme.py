"""Generated blocks in the README (the answer, the timing table, the kill matrix's summary).

A block stands between two HTML comment markers; ``--write`` rewrites it, ``--check`` says when it
is stale. Shared by the user's ``answer`` and the maintainers' and performance tools.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError


def replace_block(text: str, block: str, name: str, markers: tuple[str, str]) -> str:
    """``text`` with the part between the markers replaced by ``block``."""
    opening, closing = markers
    start, end = text.find(opening), text.find(closing)
    if start < 0 or end < start:
        raise HarnessError(f"{name} has no {opening} ... {closing} block")
    return f"{text[: start + len(opening)]}\n{block}\n{text[end:]}"


def sync_block(path: Path, block: str, markers: tuple[str, str], write: bool, command: str) -> int:
    """Rewrite ``path``'s generated block (``write``), or say it is stale and return 1; ``command``
    rewrites it."""
    text = path.read_text()
    fresh = replace_block(text, block, str(path), markers)
    if write:
        path.write_text(fresh)
        return 0
    if fresh != text:
        print(f"{path}'s {markers[0]} block is stale: {command} {path}")
        return 1
    return 0


def current_block(text: str, name: str, markers: tuple[str, str]) -> str:
    """What stands between the markers now."""
    (opening, closing), start, end = markers, text.find(markers[0]), text.find(markers[1])
    if start < 0 or end < start:
        raise HarnessError(f"{name} has no {opening} ... {closing} block")
    return text[start + len(opening) : end].strip("\n")
