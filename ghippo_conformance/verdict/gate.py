"""The release gate: requirement outcomes after waivers, the baseline comparison, and the verdict.

The requirements that decide the verdict are the MUSTs (and the SHOULDs with --strict). The verdict is
`fail` when one of them failed, when --certify meets one not judged or waived, when a requirement
regressed from the baseline, when a waiver expired or went stale, or when the run left keys on the
deployment or could not check that it left none. Otherwise it is `incomplete` when the run did not run
its tests to the end or a check of the suite crashed; `partial` when one of them was not judged (the
operator left it out, a check could not be made, or it is pending until a later run); `pass` only when
every one of them was judged and held. A deployment that stopped answering makes the run `incomplete`
whatever failed: most of its failures are requests it left unanswered, and the run is to be repeated
before anyone acts on it. Each of these is one sentence in `reasons`; the exit status follows the verdict.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ghippo_conformance.deployment.settings import Settings
from ghippo_conformance.verdict import baseline as baseline_module
from ghippo_conformance.verdict import waivers as waivers_module
from ghippo_conformance.verdict.baseline import Baseline, Comparison
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.outcomes import UNJUDGED, Outcome, RequirementResult, Results, Verdict
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
    # The requirements that decide the verdict and were not judged (in full), whatever the verdict.
    unchecked: list[RequirementResult]


def conclude(
    results: Results, catalogue: Catalogue, inputs: Inputs, *, today: datetime.date, aftermath: Aftermath = Aftermath()
) -> Conclusion:
    uses = waivers_module.apply(inputs.waivers, results, today=today, path=inputs.waiver_file)
    table = results.by_requirement(catalogue)
    comparison = baseline_module.compare(inputs.baseline, table) if inputs.baseline else None
    levels = deciding_levels(strict=inputs.strict)
    unchecked = [entry for entry in table.values() if entry.requirement.level in levels and entry.outcome in UNJUDGED]
    failing = [
        *_requirement_failures(table, levels),
        *(_uncertified(table, levels, results) if inputs.certify else ()),
        *(
            f"{rid} regressed: it passed in the baseline {inputs.baseline.path} and fails now"
            for rid in (comparison.regressions if comparison else ())
        ),
        *(use.problem for use in uses if use.problem),
        *_aftermath_reasons(aftermath),
    ]
    unfinished = [
        *_crash_reasons(results),
        *([f"the run did not finish: {aftermath.unfinished}"] if aftermath.unfinished else []),
    ]
    partial = list(_partial_reasons(unchecked, results, levels))
    if aftermath.stopped_answering:
        verdict = Verdict.INCOMPLETE
    elif failing:
        verdict = Verdict.FAIL
    elif unfinished:
        verdict = Verdict.INCOMPLETE
    else:
        verdict = Verdict.PARTIAL if partial else Verdict.PASS
    # What was left unjudged is a reason only for a partial verdict; `unchecked` lists it whatever the verdict.
    reasons = [*failing, *unfinished, *(partial if verdict == Verdict.PARTIAL else ())]
    return Conclusion(table, uses, comparison, verdict, reasons, unchecked)


def deciding_levels(*, strict: bool) -> tuple[str, ...]:
    """The levels whose requirements decide the verdict: a failure of one fails the run."""
    return ("MUST", "SHOULD") if strict else ("MUST",)


def _crash_reasons(results: Results):
    crashes = [*results.crashes, *results.unattributed]
    if crashes:
        yield (
            f"the suite crashed in {len(crashes)} test phase(s), first {crashes[0]}: a bug of the suite, not a "
            "verdict on the deployment; please report it with the traceback the report shows"
        )


def _partial_reasons(unchecked: list[RequirementResult], results: Results, levels: tuple[str, ...]):
    if results.not_collected_because:
        yield f"{results.not_collected_because}: every requirement is judged only by the tests it names"
    if unchecked:
        yield (
            f"{len(unchecked)} {' or '.join(levels)} requirement(s) were not judged in full: "
            f"{', '.join(entry.requirement.id for entry in unchecked)} (each is listed with why)"
        )


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


def _requirement_failures(table: dict[str, RequirementResult], levels: tuple[str, ...]):
    for entry in table.values():
        if entry.outcome == Outcome.FAILED and entry.requirement.level in levels:
            yield f"{entry.requirement.level} {entry.requirement.id} failed: {entry.reason}"


def _uncertified(table: dict[str, RequirementResult], levels: tuple[str, ...], results: Results):
    """A certification run admits no exceptions: whatever it did not judge, or waived, fails it. A crash
    of the suite (error) is not the deployment's doing: that run stays incomplete."""
    excepted = "and a certification run (--certify) admits no exceptions"
    if results.not_collected_because:
        yield f"{results.not_collected_because}, {excepted}"
    for entry in table.values():
        if entry.requirement.level in levels and entry.outcome in (Outcome.WAIVED, Outcome.PENDING, Outcome.SKIPPED):
            yield f"{entry.requirement.level} {entry.requirement.id} was {entry.outcome}, {excepted}"
