"""The kill matrix as text: one row per run, one column per requirement, one symbol per cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ghippo_conformance.verdict import catalogue as catalogue_module
from ghippo_conformance.verdict.outcomes import Outcome

if TYPE_CHECKING:
    from selftest.matrix import Matrix, Result

LEGEND = """\
X  failed, as the variant declares: the defect is caught
!  failed, not declared: a check that is not isolated, or a variant that breaks more than it says
?  declared, did not fail: the defect escapes the suite
x  failed, allowed: by chance (generated inputs), a SHOULD against a tolerance, a MAY
E  the suite crashed in a check of it: not judged, a bug of the suite
.  passed     s  skipped     p  pending     -  not applicable
   (blank) not in the run: a defect's run judges only the requirements it concerns (--whole: all)"""

_PLAIN = {
    Outcome.PASSED: ".",
    Outcome.SKIPPED: "s",
    Outcome.PENDING: "p",
    Outcome.NOT_APPLICABLE: "-",
    Outcome.ERROR: "E",
}


def symbol(result: Result, requirement_id: str) -> str:
    if not result.judged(requirement_id):
        return " "
    if requirement_id in result.escaped():
        return "?"
    outcome = result.suite.outcomes().get(requirement_id, "")
    if outcome != Outcome.FAILED:
        return _PLAIN.get(outcome, " ")
    if requirement_id in result.run.declared:
        return "X"
    return "!" if requirement_id in result.unexpected() else "x"


def _vertical(labels: list[str]) -> list[str]:
    """Column labels written downwards, one character per line, bottom-aligned."""
    height = max(len(label) for label in labels)
    padded = [label.rjust(height) for label in labels]
    return [" ".join(label[line] for label in padded) for line in range(height)]


def render(matrix: Matrix) -> str:
    ids = list(catalogue_module.load().requirements)
    width = max(len(result.run.label) for result in matrix.results)
    lines = [" " * (width + 2) + line for line in _vertical(ids)]
    for result in matrix.results:
        cells = " ".join(symbol(result, rid) for rid in ids)
        stopped = "" if result.suite.report else f"  (suite stopped, exit {result.suite.exit_code})"
        lines.append(f"{result.run.label.ljust(width)}  {cells}{stopped}")
    lines += ["", LEGEND, ""]
    notes = [f"{result.run.label}: {text}" for result in matrix.results for text in result.surprises()]
    known = [
        f"{result.run.label}: known suite issue: {result.known_issue().reason}"
        for result in matrix.results
        if result.known_issue()
    ]
    lines += notes or ["Every run went as its variant declares."]
    lines += known
    busy_s = sum(result.wall_s for result in matrix.results)
    lines.append(
        f"{len(matrix.results)} runs in {matrix.wall_s:.0f} s wall time "
        f"({busy_s:.0f} s of runs, {matrix.workers} at a time)"
    )
    return "\n".join(line.rstrip() for line in lines)
