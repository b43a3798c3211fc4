"""From pytest's per-phase reports to one outcome per test and one per requirement."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ghippo_conformance.verdict.catalogue import Catalogue, Requirement

NOT_APPLICABLE = "not applicable: "
OUTCOMES = ("passed", "failed", "waived", "skipped", "not-applicable")
# A requirement shows the most telling outcome among its tests: an unwaived failure first.
_PRECEDENCE = ("failed", "waived", "passed", "skipped", "not-applicable")
NOT_RUN = "no test ran for it (deselected or not collected)"


@dataclass
class TestResult:
    __test__ = False  # a result, not a test class for pytest to collect

    nodeid: str
    requirement: str
    outcome: str = "passed"
    reason: str = ""
    evidence: str = ""
    duration_s: float = 0.0


@dataclass
class RequirementResult:
    requirement: Requirement
    tests: list[TestResult]
    outcome: str
    reason: str


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
    return reason.removeprefix("Skipped: ")


def failure_message(report: pytest.TestReport) -> str:
    """What failed, in the test's own words: the exception message with the exchanges it shows."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr)
    return message.removeprefix("AssertionError: ")


@dataclass
class Results:
    tests: dict[str, TestResult] = field(default_factory=dict)
    # Failures no requirement accounts for, e.g. an xdist worker that crashed before its test
    # reported anything: each one fails the run, since it may hide a failing requirement.
    unattributed: list[str] = field(default_factory=list)

    def record(self, report: pytest.TestReport) -> None:
        # A report xdist makes for a crashed worker has no properties; the test's earlier phases
        # (setup) may still have named its requirement.
        requirement = dict(report.user_properties).get("requirement")
        result = self.tests.get(report.nodeid)
        if result is None and requirement is None:
            if report.failed:
                what = failure_message(report).partition("\n")[0]
                self.unattributed.append(f"{report.nodeid}: {what}")
            return
        if result is None:
            result = self.tests[report.nodeid] = TestResult(report.nodeid, requirement)
        result.duration_s += report.duration
        if report.failed and result.outcome != "failed":
            result.outcome = "failed"
            result.evidence = failure_message(report)
            result.reason = result.evidence.partition("\n")[0]
        elif report.skipped and result.outcome == "passed":
            reason = skip_reason(report)
            applicable = not reason.startswith(NOT_APPLICABLE)
            result.outcome = "skipped" if applicable else "not-applicable"
            result.reason = reason.removeprefix(NOT_APPLICABLE)

    def of(self, requirement_id: str) -> list[TestResult]:
        return [t for t in self.tests.values() if t.requirement == requirement_id]

    def by_requirement(self, catalogue: Catalogue) -> dict[str, RequirementResult]:
        """Each catalogue requirement with its outcome and the tests behind it."""
        table = {}
        for requirement in catalogue.requirements.values():
            tests = self.of(requirement.id)
            outcomes = {t.outcome for t in tests}
            outcome = next((o for o in _PRECEDENCE if o in outcomes), "skipped")
            reason = next((t.reason for t in tests if t.outcome == outcome and t.reason), "")
            table[requirement.id] = RequirementResult(requirement, tests, outcome,
                                                      reason if tests else NOT_RUN)
        return table


def counts(table: dict[str, RequirementResult]) -> dict[str, int]:
    """How many requirements ended in each outcome (every outcome listed, zeros included)."""
    found = [entry.outcome for entry in table.values()]
    return {outcome: found.count(outcome) for outcome in OUTCOMES}
