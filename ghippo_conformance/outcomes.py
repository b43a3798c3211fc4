"""From pytest's per-phase reports to one outcome per test and one per requirement."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from .catalogue import Catalogue

NOT_APPLICABLE = "not applicable: "
_PRECEDENCE = ("failed", "passed", "skipped", "not-applicable")


@dataclass
class TestResult:
    nodeid: str
    requirement: str
    outcome: str = "passed"
    reason: str = ""
    evidence: str = ""
    duration_s: float = 0.0


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
    return reason.removeprefix("Skipped: ")


@dataclass
class Results:
    tests: dict[str, TestResult] = field(default_factory=dict)

    def record(self, report: pytest.TestReport) -> None:
        requirement = dict(report.user_properties).get("requirement")
        if requirement is None:
            return
        result = self.tests.setdefault(report.nodeid, TestResult(report.nodeid, requirement))
        result.duration_s += report.duration
        if report.failed and result.outcome != "failed":
            result.outcome = "failed"
            result.evidence = str(report.longrepr)
        elif report.skipped and result.outcome == "passed":
            reason = skip_reason(report)
            applicable = not reason.startswith(NOT_APPLICABLE)
            result.outcome = "skipped" if applicable else "not-applicable"
            result.reason = reason.removeprefix(NOT_APPLICABLE)

    def by_requirement(self, catalogue: Catalogue) -> dict[str, dict]:
        """Each catalogue requirement with its outcome and the tests behind it."""
        table = {}
        for requirement in catalogue.requirements.values():
            tests = [t for t in self.tests.values() if t.requirement == requirement.id]
            outcomes = {t.outcome for t in tests}
            outcome = next((o for o in _PRECEDENCE if o in outcomes), "skipped")
            reason = next((t.reason for t in tests if t.outcome == outcome and t.reason), "")
            table[requirement.id] = {
                "id": requirement.id,
                "level": requirement.level,
                "outcome": outcome,
                "reason": reason if tests else "no test ran for it (deselected or not collected)",
                "tests": tests,
            }
        return table


def verdict(table: dict[str, dict], *, strict: bool) -> str:
    failing_levels = {"MUST", "SHOULD"} if strict else {"MUST"}
    failed = any(r["outcome"] == "failed" and r["level"] in failing_levels for r in table.values())
    return "fail" if failed else "pass"
