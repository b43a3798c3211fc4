"""Removing keys the suite created and something kept it from removing: a crashed worker, a
killed run. A key is the suite's only if its name carries the run-id prefix; nothing else is touched."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ghippo_conformance.deployment.keys import KeyLedger
from ghippo_conformance.deployment.profile import Section


def run_prefix_pattern(profile: Section, run_id: str | None = None) -> re.Pattern[str]:
    """Names this suite gives keys: `<prefix>-<run id>-<purpose>`; any run id when none is given."""
    run = re.escape(run_id) if run_id else "[0-9a-f]{8}"
    return re.compile(rf"^{re.escape(profile.keys.name_prefix)}-{run}-")


@dataclass
class Sweep:
    removed: list[str] = field(default_factory=list)  # "id (name)"
    failed: list[str] = field(default_factory=list)  # still listed after their delete
    # Keys whose delete answered 2xx while the list still shows them, each with the exchanges: a
    # delete that deletes nothing, which is KEY-REVOKE's concern and never proof of removal.
    kept_after_success: list[str] = field(default_factory=list)
    listed_after: dict[str, str] = field(default_factory=dict)  # id -> name of every key held at the end


def sweep(ledger: KeyLedger, pattern: re.Pattern[str]) -> Sweep:
    """Delete every key the user holds whose name matches `pattern`, then list again: a key is
    removed when the list no longer shows it, whatever the delete answered. Raises KeysUnreadable
    when the list cannot be read."""
    held = ledger.held_for_certain()
    matching = {key_id: name for key_id, name in held.items() if pattern.match(name)}
    if not matching:
        return Sweep(listed_after=held)
    answers = {key_id: ledger.delete(key_id) for key_id in matching}
    result = Sweep(listed_after=ledger.held_for_certain())
    for key_id, name in matching.items():
        label, answer = f"{key_id} ({name})", answers[key_id]
        if key_id not in result.listed_after:
            result.removed.append(label)
            continue
        result.failed.append(label)
        if answer.status < 300:
            result.kept_after_success.append(
                f"the delete of key {label} answered {answer.status}, and the key list still shows it\n"
                f"{answer.evidence()}"
            )
    return result
