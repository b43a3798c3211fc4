"""The run's state: everything the plugin's hooks share, in one value in the config's stash."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ghippo_conformance.checks.token_records import TokenRecords
from ghippo_conformance.deployment.session import Target
from ghippo_conformance.deployment.settings import Settings
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.gate import Inputs
from ghippo_conformance.verdict.outcomes import Results


@dataclass
class RunState:
    settings: Settings
    target: Target
    catalogue: Catalogue
    gate_inputs: Inputs
    started: str
    # An xdist worker runs tests and records nothing: its controller ends the run.
    is_worker: bool
    results: Results = field(default_factory=Results)
    # Lines for the console after the verdict: what the run left out or only planned.
    notes: list[str] = field(default_factory=list)
    # id -> name of the user's keys before any test ran (None: unknown), to tell whether one vanished.
    keys_at_start: dict[str, str] | None = None
    # Tokens earlier runs kept for this deployment's expiry check (AUTH-EXPIRED-OWN), and where this run keeps its own.
    token_records: TokenRecords | None = None
    # The conformance report, once the run has ended; every report and the console render it.
    report: dict[str, Any] | None = None


_KEY = pytest.StashKey[RunState]()


def keep(config: pytest.Config, state: RunState) -> None:
    config.stash[_KEY] = state


def of(config: pytest.Config) -> RunState | None:
    """The run's state; None when the plugin did not set up a run (--help, --version, a usage error)."""
    return config.stash.get(_KEY, None)
