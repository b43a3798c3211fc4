"""From pytest's per-phase reports to one outcome per test and one per requirement."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pytest

from ghippo_conformance.verdict.catalogue import Catalogue, Requirement


class Outcome(StrEnum):
    """What became of a test, and of a requirement (the most telling outcome of its tests)."""

    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not-applicable"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    # The run did not run its tests to the end (interrupted, stopped early, only collected):
    # it cannot vouch for the deployment, and no failure it saw says the deployment fails.
    INCOMPLETE = "incomplete"


class NotApplicable(pytest.skip.Exception):
    """A test whose requirement does not apply to the profile: skipped, and reported as such."""

    def __init__(self, reason: str) -> None:
        # Reported at the test's own location, as a skip mark is, not where this is raised.
        super().__init__(reason, _use_item_location=True)


# pytest shows a skip's type before its reason unless the type claims to be a builtin, as its own
# Skipped does: "NotApplicable: applies to …" instead of "ghippo_conformance.verdict.outcomes.…".
NotApplicable.__module__ = "builtins"


# The test report property that carries a NotApplicable skip across to the xdist controller.
APPLICABILITY_PROPERTY = "applicability"
# Test-report properties of a test skipped because the run could not go on, set where the skip was
# raised (an xdist worker, maybe) and read by the controller: when the deployment stopped answering,
# and the first rate-limiting answer. Either makes the run incomplete, never a pass.
STOPPED_ANSWERING_PROPERTY = "stopped_answering_at"
RATE_LIMITED_PROPERTY = "rate_limited"
# A test-report property for each answer a known secret leaked in while the test ran (target/leaks.py):
# the run fails API-NO-SECRET-LEAK for it at its end, whichever test or xdist worker met it.
SECRET_LEAK_PROPERTY = "secret_leak"
# A requirement shows the most telling outcome among its tests: an unwaived failure first.
_PRECEDENCE = (Outcome.FAILED, Outcome.WAIVED, Outcome.PASSED, Outcome.SKIPPED, Outcome.NOT_APPLICABLE)
NOT_RUN = "no test ran for it (deselected or not collected)"


@dataclass
class TestResult:
    __test__ = False  # a result, not a test class for pytest to collect

    nodeid: str
    requirement: str
    outcome: Outcome = Outcome.PASSED
    reason: str = ""
    evidence: str = ""
    duration_s: float = 0.0


@dataclass
class RequirementResult:
    requirement: Requirement
    tests: list[TestResult]
    outcome: Outcome
    reason: str


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
    return reason.removeprefix("Skipped: ").removeprefix(f"{NotApplicable.__name__}: ")


def failure_message(report: pytest.TestReport) -> str:
    """What failed, in the test's own words: the exception message with the exchanges it shows."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr)
    return message.removeprefix("AssertionError: ")


def without_xdist_group(nodeid: str) -> str:
    """The test's id as a serial run names it. Under --dist loadgroup xdist appends "@<group>" to the id
    of a test marked xdist_group; waivers, baselines and reports name a test the same way however the
    run was spread."""
    test, at, group = nodeid.rpartition("@")
    return test if at and test and "]" not in group and "::" not in group else nodeid


@dataclass
class Results:
    tests: dict[str, TestResult] = field(default_factory=dict)
    # Failures no requirement accounts for, e.g. an xdist worker that crashed before its test
    # reported anything: each one fails the run, since it may hide a failing requirement.
    unattributed: list[str] = field(default_factory=list)
    stopped_answering_at: str | None = None  # the first time a test met the deployment's silence
    rate_limited: str | None = None  # the first rate-limiting answer a test met
    secret_leaks: list[str] = field(default_factory=list)  # every leak a test met, as Leak.report() wrote it

    def record(self, report: pytest.TestReport) -> None:
        self.secret_leaks += [value for name, value in report.user_properties if name == SECRET_LEAK_PROPERTY]
        properties = dict(report.user_properties)
        self.stopped_answering_at = self.stopped_answering_at or properties.get(STOPPED_ANSWERING_PROPERTY)
        self.rate_limited = self.rate_limited or properties.get(RATE_LIMITED_PROPERTY)
        # A report xdist makes for a crashed worker has no properties; the test's earlier phases
        # (setup) may still have named its requirement.
        requirement = properties.get("requirement")
        nodeid = without_xdist_group(report.nodeid)
        result = self.tests.get(nodeid)
        if result is None and requirement is None:
            if report.failed:
                what = failure_message(report).partition("\n")[0]
                self.unattributed.append(f"{nodeid}: {what}")
            return
        if result is None:
            result = self.tests[nodeid] = TestResult(nodeid, requirement)
        result.duration_s += report.duration
        if report.failed and result.outcome != Outcome.FAILED:
            result.outcome = Outcome.FAILED
            result.evidence = failure_message(report)
            result.reason = result.evidence.partition("\n")[0]
        elif report.skipped and result.outcome == Outcome.PASSED:
            not_applicable = dict(report.user_properties).get(APPLICABILITY_PROPERTY) == Outcome.NOT_APPLICABLE
            result.outcome = Outcome.NOT_APPLICABLE if not_applicable else Outcome.SKIPPED
            result.reason = skip_reason(report)

    def fail(self, requirement_id: str, where: str, evidence: str) -> None:
        """A failure the run saw outside the tests (at its end, say), as a test result of its own."""
        reason = evidence.partition("\n")[0]
        self.tests[f"{where}: {reason}"] = TestResult(where, requirement_id, Outcome.FAILED, reason, evidence)

    def of(self, requirement_id: str) -> list[TestResult]:
        return [t for t in self.tests.values() if t.requirement == requirement_id]

    def by_requirement(self, catalogue: Catalogue) -> dict[str, RequirementResult]:
        """Each catalogue requirement with its outcome and the tests behind it."""
        table = {}
        for requirement in catalogue.requirements.values():
            tests = self.of(requirement.id)
            outcomes = {t.outcome for t in tests}
            outcome = next((o for o in _PRECEDENCE if o in outcomes), Outcome.SKIPPED)
            reason = next((t.reason for t in tests if t.outcome == outcome and t.reason), "")
            table[requirement.id] = RequirementResult(requirement, tests, outcome, reason if tests else NOT_RUN)
        return table


def counts(table: dict[str, RequirementResult]) -> dict[str, int]:
    """How many requirements ended in each outcome (every outcome listed, zeros included)."""
    found = [entry.outcome for entry in table.values()]
    return {outcome: found.count(outcome) for outcome in Outcome}
