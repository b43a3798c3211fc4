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
    # A check of the suite's own crashed (verdict/failures.py tells): it judged nothing.
    ERROR = "error"
    WAIVED = "waived"
    # Judged only later: a run after `checkable_after` can (Pending).
    PENDING = "pending"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not-applicable"


# A requirement with one of these outcomes was not judged, or not in full.
UNJUDGED = (Outcome.ERROR, Outcome.PENDING, Outcome.SKIPPED)


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    # The run ran its tests to the end and nothing failed, but it left requirements that decide the
    # verdict unjudged (the operator chose so, or a check could not be made): it vouches for less.
    PARTIAL = "partial"
    # The run did not run its tests to the end (interrupted, stopped early, only collected), or a check
    # of the suite crashed: it cannot vouch for the deployment, and no failure it saw says the deployment fails.
    INCOMPLETE = "incomplete"


class NotApplicable(pytest.skip.Exception):
    """A test whose requirement does not apply to the profile: skipped, and reported as such."""

    def __init__(self, reason: str) -> None:
        # Reported at the test's own location, as a skip mark is, not where this is raised.
        super().__init__(reason, _use_item_location=True)


class Pending(pytest.skip.Exception):
    """A test that can judge its requirement only from a later moment on (a token's exp must pass on
    the deployment's clock): skipped, and reported as pending with that moment."""

    def __init__(self, reason: str, checkable_after: str) -> None:
        super().__init__(reason, _use_item_location=True)
        self.checkable_after = checkable_after


# pytest shows a skip's type before its reason unless the type claims to be a builtin, as its own
# Skipped does: "NotApplicable: applies to …" instead of "ghippo_conformance.verdict.outcomes.…".
NotApplicable.__module__ = "builtins"
Pending.__module__ = "builtins"


# Test report properties that carry what a report's own outcome cannot across to the xdist controller
# (an exception's type does not cross): which kind of skip it was (not-applicable, pending) and when a
# pending test becomes checkable; whose failure a failure is (failures.py; absent: the suite's, as in the
# report xdist makes for a worker that died).
SKIP_KIND_PROPERTY = "skipped_as"
CHECKABLE_AFTER_PROPERTY = "checkable_after"
FAILURE_OF_PROPERTY = "failure_of"
DEPLOYMENT = "deployment"
SUITE = "suite"
# Test-report properties of a test skipped because the run could not go on, set where the skip was
# raised (an xdist worker, maybe) and read by the controller: when the deployment stopped answering,
# and the first rate-limiting answer. Either makes the run incomplete, never a pass.
STOPPED_ANSWERING_PROPERTY = "stopped_answering_at"
RATE_LIMITED_PROPERTY = "rate_limited"
# A test-report property for each answer a known secret leaked in while the test ran (deployment/leaks.py):
# the run fails API-NO-SECRET-LEAK for it at its end, whichever test or xdist worker met it.
SECRET_LEAK_PROPERTY = "secret_leak"
# A requirement shows the most telling outcome among its tests: an unwaived failure first, then a crash
# of the suite; a requirement passes only when every test of it that applies passed.
_PRECEDENCE = (
    Outcome.FAILED,
    Outcome.ERROR,
    Outcome.WAIVED,
    Outcome.PENDING,
    Outcome.SKIPPED,
    Outcome.PASSED,
    Outcome.NOT_APPLICABLE,
)
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
    checkable_after: str | None = None  # when a pending test becomes checkable


@dataclass
class RequirementResult:
    requirement: Requirement
    tests: list[TestResult]
    outcome: Outcome
    reason: str
    checkable_after: str | None = None  # when a pending requirement becomes checkable


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
    for prefix in ("Skipped: ", f"{NotApplicable.__name__}: ", f"{Pending.__name__}: "):
        reason = reason.removeprefix(prefix)
    return reason


def failure_message(report: pytest.TestReport) -> str:
    """What failed, in the test's own words: the exception message with the exchanges it shows."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr)
    return message.removeprefix("AssertionError: ")


def crash_message(report: pytest.TestReport) -> str:
    """A crash in one line, its exception's type first."""
    crash = getattr(report.longrepr, "reprcrash", None)
    return (crash.message if crash is not None else str(report.longrepr)).partition("\n")[0]


def without_xdist_group(nodeid: str) -> str:
    """The test's id as a serial run names it. Under --dist loadgroup xdist appends "@<group>" to the id
    of a test marked xdist_group; waivers, baselines and reports name a test the same way however the
    run was spread."""
    test, at, group = nodeid.rpartition("@")
    return test if at and test and "]" not in group and "::" not in group else nodeid


@dataclass
class Results:
    tests: dict[str, TestResult] = field(default_factory=dict)
    # Failures no requirement accounts for: an xdist worker that died before its test reported
    # anything. Each is a crash of the suite's, and may hide a failing requirement.
    unattributed: list[str] = field(default_factory=list)
    # Every crash of the suite's own code, "node id: exception", whatever else its test met.
    crashes: list[str] = field(default_factory=list)
    # Why tests of the suite were not even collected (the command line named only some); None: all were.
    not_collected_because: str | None = None
    left_out: set[str] = field(default_factory=set)  # node ids of the tests the operator's options left out
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
                self.unattributed.append(f"{nodeid}: {crash_message(report)}")
            return
        if result is None:
            result = self.tests[nodeid] = TestResult(nodeid, requirement)
        result.duration_s += report.duration
        if report.failed and properties.get(FAILURE_OF_PROPERTY) == DEPLOYMENT:
            if result.outcome != Outcome.FAILED:  # a genuine failure outranks a crash seen in another phase
                result.outcome = Outcome.FAILED
                result.evidence = failure_message(report)
                result.reason = result.evidence.partition("\n")[0]
        elif report.failed:
            self.crashes.append(f"{nodeid}: {crash_message(report)}")
            if result.outcome not in (Outcome.FAILED, Outcome.ERROR):
                result.outcome = Outcome.ERROR
                result.reason = f"the suite crashed, judging nothing: {crash_message(report)}"
                result.evidence = report.longreprtext
        elif report.skipped and result.outcome == Outcome.PASSED:
            kind = properties.get(SKIP_KIND_PROPERTY)
            result.outcome = Outcome(kind) if kind in (Outcome.NOT_APPLICABLE, Outcome.PENDING) else Outcome.SKIPPED
            result.reason = skip_reason(report)
            result.checkable_after = properties.get(CHECKABLE_AFTER_PROPERTY)

    def deselect(self, nodeid: str, requirement_id: str, outcome: str, why: str) -> None:
        """A collected test the run left out by the operator's choice (-k, -m, --read-only, --requirement):
        skipped, or not applicable when its requirement does not apply anyway."""
        nodeid = without_xdist_group(nodeid)
        self.left_out.add(nodeid)
        self.tests.setdefault(nodeid, TestResult(nodeid, requirement_id, Outcome(outcome), why))

    @property
    def ran(self) -> bool:
        """Whether any test ran (or died trying), rather than every one being left out."""
        return bool(self.unattributed) or any(nodeid not in self.left_out for nodeid in self.tests)

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
            deciding = [t for t in tests if t.outcome == outcome]
            table[requirement.id] = RequirementResult(
                requirement,
                tests,
                outcome,
                self._reason(tests, deciding),
                max((t.checkable_after for t in deciding if t.checkable_after), default=None),
            )
        return table

    def _reason(self, tests: list[TestResult], deciding: list[TestResult]) -> str:
        if not tests:
            return self.not_collected_because or NOT_RUN
        reason = next((t.reason for t in deciding if t.reason), "")
        passed = sum(t.outcome == Outcome.PASSED for t in tests)
        if passed and deciding[0].outcome in UNJUDGED:
            # Not judged in full: say how much was.
            applicable = sum(t.outcome != Outcome.NOT_APPLICABLE for t in tests)
            reason += f" ({passed} of its {applicable} tests passed)"
        return reason


def counts(table: dict[str, RequirementResult]) -> dict[str, int]:
    """How many requirements ended in each outcome (every outcome listed, zeros included)."""
    found = [entry.outcome for entry in table.values()]
    return {outcome: found.count(outcome) for outcome in Outcome}
