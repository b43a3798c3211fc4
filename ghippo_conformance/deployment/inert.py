"""Text a deployment sent, made safe to print: shown, never interpreted by a terminal or a CI log."""

from __future__ import annotations

import re

# C0 and C1 controls but tab and newline, DEL, and the Unicode marks that reorder what follows
# them: an escape sequence could rewrite the terminal or hide lines of a CI log, a bidi override
# could make evidence read differently from what was received.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`), never sent raw."""
    return _CONTROL.sub(lambda match: match.group(0).encode("unicode_escape").decode("ascii"), text)
