"""Removing keys the suite created and something kept it from removing: a crashed worker, a
killed run. A key is the suite's only if its name carries the run-id prefix; nothing else is touched."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ghippo_conformance.checks.keys import KeyLedger
from ghippo_conformance.target.profile import Section


def run_prefix_pattern(profile: Section, run_id: str | None = None) -> re.Pattern[str]:
    """Names this suite gives keys: `<prefix>-<run id>-<purpose>`; any run id when none is given."""
    run = re.escape(run_id) if run_id else "[0-9a-f]{8}"
    return re.compile(rf"^{re.escape(profile.keys.name_prefix)}-{run}-")


@dataclass
class Sweep:
    removed: list[str] = field(default_factory=list)  # "id (name)"
    failed: list[str] = field(default_factory=list)


def sweep(ledger: KeyLedger, pattern: re.Pattern[str]) -> Sweep:
    """Delete every key the user holds whose name matches `pattern`."""
    result = Sweep()
    for key in ledger.held():
        name, key_id = str(key.get("name", "")), key.get("id")
        if not pattern.match(name) or not isinstance(key_id, str):
            continue
        outcome = ledger.delete(key_id)
        (result.removed if outcome.status < 300 else result.failed).append(f"{key_id} ({name})")
    return result
