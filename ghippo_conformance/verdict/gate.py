"""The release gate: requirement outcomes after waivers, the baseline comparison, and the verdict.

The verdict is `fail` when a MUST failed (a SHOULD too with --strict), when --certify meets a
skipped or waived MUST, when a requirement regressed from the baseline, when a waiver expired or
went stale, or when the run left keys on the deployment or could not check that it left none.
Otherwise it is `incomplete` when the run did not run its tests to the end, and `pass` only when
it did. A deployment that stopped answering makes the run `incomplete` whatever failed: most of its
failures are requests it left unanswered, and the run is to be repeated before anyone acts on it.
Each of these is one sentence in `reasons`; the exit status follows the verdict.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ghippo_conformance.target.settings import Settings
from ghippo_conformance.verdict import baseline as baseline_module
from ghippo_conformance.verdict import waivers as waivers_module
from ghippo_conformance.verdict.baseline import Baseline, Comparison
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.outcomes import Outcome, RequirementResult, Results, Verdict
from ghippo_conformance.verdict.waivers import Waiver, WaiverUse


@dataclass(frozen=True)
class Inputs:
    """What the gate reads besides the results: waivers and a baseline, checked before any test runs."""

    waivers: list[Waiver]
    waiver_file: str | None
    baseline: Baseline | None
    strict: bool
    certify: bool


def load_inputs(settings: Settings, catalogue: Catalogue) -> Inputs:
    """Raises WaiverError or BaselineError (usage errors) for a file that cannot be used."""
    return Inputs(
        waivers=waivers_module.load(settings.waivers, catalogue) if settings.waivers else [],
        waiver_file=settings.waivers,
        baseline=baseline_module.load(settings.baseline) if settings.baseline else None,
        strict=settings.strict,
        certify=settings.certify,
    )


@dataclass(frozen=True)
class Aftermath:
    """What the end of the run found besides the tests' results."""

    unfinished: str | None = None  # why the run did not run its tests to the end
    leftovers: tuple[str, ...] = ()  # keys of this run still on the deployment, "id (name)"
    sweep_error: str | None = None  # why the run could not check for leftovers
    bearer_problem: str | None = None  # why the deployment gave the session no usable bearer
    # Keys of the user's, held before the run and not the run's, that the end of the run no longer finds.
    vanished: tuple[str, ...] = ()
    # The deployment stopped answering: the failures it caused are its silence, not its contract,
    # so the run is incomplete whatever failed.
    stopped_answering: bool = False


@dataclass(frozen=True)
class Conclusion:
    table: dict[str, RequirementResult]
    waivers: list[WaiverUse]
    comparison: Comparison | None
    verdict: Verdict
    reasons: list[str]


def conclude(
    results: Results, catalogue: Catalogue, inputs: Inputs, *, today: datetime.date, aftermath: Aftermath = Aftermath()
) -> Conclusion:
    uses = waivers_module.apply(inputs.waivers, results, today=today, path=inputs.waiver_file)
    table = results.by_requirement(catalogue)
    comparison = baseline_module.compare(inputs.baseline, table) if inputs.baseline else None
    reasons = [
        *_requirement_reasons(table, strict=inputs.strict, certify=inputs.certify),
        *(
            f"{rid} regressed: it passed in the baseline {inputs.baseline.path} and fails now"
            for rid in (comparison.regressions if comparison else ())
        ),
        *(use.problem for use in uses if use.problem),
        *(
            f"{failure}: a failure outside any requirement, so the run cannot vouch for the deployment"
            for failure in results.unattributed
        ),
        *_aftermath_reasons(aftermath),
    ]
    if aftermath.stopped_answering:
        verdict = Verdict.INCOMPLETE
    else:
        verdict = Verdict.FAIL if reasons else Verdict.INCOMPLETE if aftermath.unfinished else Verdict.PASS
    if aftermath.unfinished:
        reasons.append(f"the run did not finish: {aftermath.unfinished}")
    return Conclusion(table, uses, comparison, verdict, reasons)


def _aftermath_reasons(aftermath: Aftermath):
    if aftermath.bearer_problem:
        yield f"{aftermath.bearer_problem}; every test that needs the session's bearer was skipped"
    if aftermath.leftovers:
        yield (
            f"the run left {len(aftermath.leftovers)} key(s) of its own on the deployment, remove them by hand: "
            f"{', '.join(aftermath.leftovers)}"
        )
    if aftermath.sweep_error:
        yield aftermath.sweep_error
    if aftermath.vanished:
        yield (
            f"keys of the user's that this run did not create vanished while it ran: {', '.join(aftermath.vanished)}; "
            "the run deletes only keys named after its run id, so the deployment removed them"
        )


def _requirement_reasons(table: dict[str, RequirementResult], *, strict: bool, certify: bool):
    failing_levels = ("MUST", "SHOULD") if strict else ("MUST",)
    for entry in table.values():
        level, rid = entry.requirement.level, entry.requirement.id
        if entry.outcome == Outcome.FAILED and level in failing_levels:
            yield f"{level} {rid} failed: {entry.reason}"
        elif certify and level == "MUST" and entry.outcome in (Outcome.SKIPPED, Outcome.WAIVED):
            yield f"MUST {rid} was {entry.outcome}, and a certification run (--certify) admits no exceptions"
