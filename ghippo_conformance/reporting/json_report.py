"""The JSON conformance report (--conformance-report): what was run against what, and how it went.

The document built here is also what the Markdown summary, the HTML matrix and the console's
verdict block render, so no two of them can disagree. It validates against
schemas/conformance-report.json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ghippo_conformance import __version__
from ghippo_conformance.deployment.profile import Section
from ghippo_conformance.deployment.replay import replay_lines
from ghippo_conformance.deployment.session import Target
from ghippo_conformance.deployment.settings import Settings
from ghippo_conformance.reporting import reproduce
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.gate import Aftermath, Conclusion
from ghippo_conformance.verdict.outcomes import Outcome, RequirementResult, TestResult, counts
from ghippo_conformance.verdict.waivers import WaiverUse


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Subject:
    """What the run was pointed at, as the report names it."""

    profile: Section
    base_url: str
    embedded_reference: bool
    notices: list[str]

    @classmethod
    def of(cls, target: Target) -> Subject:
        return cls(target.profile, target.base_url, target.embedded is not None, target.notices)


def build(
    conclusion: Conclusion,
    aftermath: Aftermath,
    catalogue: Catalogue,
    subject: Subject,
    settings: Settings,
    *,
    started: str,
) -> dict[str, Any]:
    comparison = conclusion.comparison
    rerun = reproduce.Rerun(settings, reproduce.program(sys.argv))  # the controller's own command line
    return {
        "suite_version": __version__,
        "catalogue_version": catalogue.version,
        "profile": subject.profile.as_dict(),
        "profile_reason": settings.profile_reason,
        "target": {"base_url": subject.base_url, "embedded_reference": subject.embedded_reference},
        "started": started,
        "finished": now(),
        "seed": settings.seed,
        "options": {"strict": settings.strict, "certify": settings.certify},
        "verdict": conclusion.verdict,
        "reasons": conclusion.reasons,
        "unchecked": [_unchecked(entry) for entry in conclusion.unchecked],
        "counts": counts(conclusion.table),
        "requirements": [_requirement(entry, rerun) for entry in conclusion.table.values()],
        "waivers": [_waiver(use) for use in conclusion.waivers],
        "baseline": comparison
        and {
            "path": comparison.baseline.path,
            "started": comparison.baseline.started,
            "regressions": comparison.regressions,
            "fixes": comparison.fixes,
            "unchanged_failures": comparison.unchanged_failures,
        },
        "leftovers": list(aftermath.leftovers),
        "vanished": list(aftermath.vanished),
        "sweep_error": aftermath.sweep_error,
        "notices": list(subject.notices),
        "replay_setup": reproduce.replay_setup(
            settings, subject.base_url, subject.profile, subject.embedded_reference, _replayed(conclusion)
        ),
    }


# The tests the report says how to reproduce.
_SHOWN_HOW_TO_REPRODUCE = (Outcome.FAILED, Outcome.ERROR, Outcome.WAIVED)


def _replayed(conclusion: Conclusion) -> list[str]:
    """Every curl line of the tests the report says how to reproduce."""
    return [
        line
        for entry in conclusion.table.values()
        for test in entry.tests
        if test.outcome in _SHOWN_HOW_TO_REPRODUCE
        for line in replay_lines(test.evidence)
    ]


# What the report repeats from the catalogue, so that it reads on its own.
_CATALOGUE_FIELDS = ("id", "level", "area", "statement", "source")


def _requirement(entry: RequirementResult, rerun: reproduce.Rerun) -> dict[str, Any]:
    return {
        **{name: getattr(entry.requirement, name) for name in _CATALOGUE_FIELDS},
        "outcome": entry.outcome,
        "reason": entry.reason,
        "rerun": rerun.requirement(entry.requirement.id),
        "checkable_after": entry.checkable_after,
        "tests": [_test(test, rerun) for test in entry.tests],
    }


def _unchecked(entry: RequirementResult) -> dict[str, Any]:
    return {
        "id": entry.requirement.id,
        "level": entry.requirement.level,
        "outcome": entry.outcome,
        "why": entry.reason,
        "checkable_after": entry.checkable_after,
    }


def _test(test: TestResult, rerun: reproduce.Rerun) -> dict[str, Any]:
    fields = asdict(test)
    del fields["requirement"]  # the entry it sits in says so
    if test.outcome in _SHOWN_HOW_TO_REPRODUCE:
        fields |= {"rerun": rerun.test(test.nodeid), "replay": replay_lines(test.evidence)}
    return fields


def _waiver(use: WaiverUse) -> dict[str, Any]:
    return {
        **asdict(use.waiver),
        "expires": use.waiver.expires.isoformat(),
        "status": use.status,
        "waived_tests": use.waived_tests,
    }


def write_text(path: str, text: str, redact: Callable[[str], str]) -> None:
    """Write one report file. Its content was redacted as it was gathered; the redactor runs once
    more over the whole text because a secret in any written file is the one unrecoverable bug."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(redact(text), encoding="utf-8")


def write(path: str, report: dict[str, Any], redact: Callable[[str], str]) -> None:
    write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n", redact)
