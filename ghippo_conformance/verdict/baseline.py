"""Baseline gating (--baseline PREVIOUS.json): what changed since an earlier conformance report.

A requirement that passed there and fails now is a regression and fails the run; fixes and
failures that were already there are listed apart, so a known defect does not hide new breakage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ghippo_conformance import json_schemas
from ghippo_conformance.verdict.outcomes import Outcome, RequirementResult

# A waived failure is still a failure when telling a fix or a known failure from a regression.
_FAILING = (Outcome.FAILED, Outcome.WAIVED)


class BaselineError(Exception):
    """A baseline that cannot be used; the message is one sentence for the operator."""


@dataclass(frozen=True)
class Baseline:
    path: str
    started: str
    outcomes: dict[str, str]  # requirement id -> outcome


@dataclass(frozen=True)
class Comparison:
    baseline: Baseline
    regressions: list[str]
    fixes: list[str]
    unchanged_failures: list[str]


def load(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
    except OSError as error:
        raise BaselineError(f"baseline {path} cannot be read ({error.strerror})") from None
    except ValueError as error:
        raise BaselineError(f"baseline {path} is not JSON ({error})") from None
    problems = json_schemas.errors(report, "conformance-report")
    if problems:
        raise BaselineError(
            f"baseline {path} is not a conformance report of this suite ({problems[0]}); "
            "pass a file written by --conformance-report"
        )
    return Baseline(path, report["started"], {r["id"]: r["outcome"] for r in report["requirements"]})


def compare(baseline: Baseline, table: dict[str, RequirementResult]) -> Comparison:
    regressions, fixes, unchanged = [], [], []
    for requirement_id, entry in table.items():
        before = baseline.outcomes.get(requirement_id)
        if before == Outcome.PASSED and entry.outcome == Outcome.FAILED:
            regressions.append(requirement_id)
        elif before in _FAILING and entry.outcome == Outcome.PASSED:
            fixes.append(requirement_id)
        elif before in _FAILING and entry.outcome in _FAILING:
            unchanged.append(requirement_id)
    return Comparison(baseline, regressions, fixes, unchanged)
