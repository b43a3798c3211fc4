"""The end of a run, in one order: remove what the run still holds on the deployment, decide the
verdict, set the exit status, then write every report from that one verdict. The HTML report and
the console render the same report afterwards (pytest-html and the terminal summary run last)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ghippo_conformance.deployment import leaks, safety
from ghippo_conformance.deployment.http import RateLimited, StoppedAnswering
from ghippo_conformance.deployment.keys import KeysUnreadable
from ghippo_conformance.deployment.preflight import PreflightError
from ghippo_conformance.deployment.profile import Section
from ghippo_conformance.deployment.redact import Redactor, redactor_for
from ghippo_conformance.deployment.settings import Settings
from ghippo_conformance.reporting import json_report, junit, markdown
from ghippo_conformance.run_state import RunState
from ghippo_conformance.verdict import gate
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.gate import Aftermath
from ghippo_conformance.verdict.outcomes import Results, Verdict

# The requirement a delete that deletes nothing breaks, wherever the run sees one.
KEY_REVOKE = "KEY-REVOKE"
# The requirement a secret in an answer not given it breaks, whichever request drew the answer.
NO_SECRET_LEAK = "API-NO-SECRET-LEAK"
# The run did not run its tests to the end and no failure decides it: not a pass, not a fail.
INCOMPLETE = 15
# The deployment stopped answering mid-run: its failures are mostly the requests it left unanswered,
# so the run is to be repeated once it answers, before anyone acts on its verdict.
STOPPED_ANSWERING = 16
# The run ran to its end and nothing failed, but requirements that decide the verdict were not judged
# (left out by the operator, a check that could not be made, a check pending until a later run): not 0,
# because a green gate must mean the deployment was checked.
PARTIAL = 17
# A check of the suite's own code crashed and no failure decides the run: the suite's bug, to report.
SUITE_CRASHED = 18
# pytest's own statuses that already say why the run stopped; an incomplete verdict keeps them.
_KEPT_STATUSES = (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR)


def finish(session: pytest.Session, state: RunState) -> None:
    state.target.api.leaks.during = "the end of the run"
    aftermath = dataclasses.replace(_aftermath(session, state), stopped_answering=bool(_stopped_answering_at(state)))
    unreported = [leak.report() for leak in state.target.api.leaks.take()]  # this process's, met outside any test
    for evidence in leaks.failures([*unreported, *state.results.secret_leaks]):
        state.results.fail(NO_SECRET_LEAK, leaks.WATCHED, evidence)
    conclusion = gate.conclude(
        state.results, state.catalogue, state.gate_inputs, today=datetime.now(UTC).date(), aftermath=aftermath
    )
    session.exitstatus = _exit_status(conclusion, aftermath, state.results, session.exitstatus)
    state.report = json_report.build(
        conclusion,
        aftermath,
        state.catalogue,
        json_report.Subject.of(state.target),
        state.settings,
        started=state.started,
    )
    _write_reports(state.settings, state.report, state.target.redact)


def stopped_at_start(
    settings: Settings,
    catalogue: Catalogue,
    inputs: gate.Inputs,
    profile: Section,
    error: PreflightError,
    *,
    started: str,
) -> None:
    """The reports of a run the session-start check stopped: no test ran, so no requirement is
    judged and the verdict is incomplete; the reason is the check's sentence. The exit status stays
    the check's own (pytest.exit), which says what kind of stop it was."""
    aftermath = Aftermath(unfinished=f"the session-start check stopped it before any test ran: {error}")
    conclusion = gate.conclude(Results(), catalogue, inputs, today=datetime.now(UTC).date(), aftermath=aftermath)
    subject = json_report.Subject(profile, settings.base_url or "http://127.0.0.1", settings.base_url is None, [])
    document = json_report.build(conclusion, aftermath, catalogue, subject, settings, started=started)
    redactor = redactor_for(settings)
    # pytest writes no JUnit file for a run stopped while it configures: there is nothing to add to.
    _write_reports(dataclasses.replace(settings, junit_path=None), document, redactor)


def _aftermath(session: pytest.Session, state: RunState) -> Aftermath:
    unfinished, target = _why_unfinished(session, state), state.target
    if state.settings.dry_run:
        state.notes += _planned_requests(state)
        return Aftermath(unfinished)
    if target.bearer is None:
        # Every key is made through the session's bearer: without one the run made none to sweep.
        return Aftermath(unfinished, bearer_problem=target.bearer_problem)
    try:
        swept = safety.sweep_this_run(target)
    except (httpx.HTTPError, RateLimited, StoppedAnswering, KeysUnreadable) as error:
        prefix = f"{target.profile.keys.name_prefix}-{target.run_id}-"
        return Aftermath(
            unfinished,
            sweep_error=(
                f"could not check for keys this run left behind ({error}); list the user's keys and remove "
                f"those named {prefix}…"
            ),
        )
    for finding in swept.kept_after_success:
        # As a test's failure is: only the curl lines this run rendered are offered for replay.
        state.results.fail(KEY_REVOKE, "run-end sweep", target.api.replay.disown_others(finding))
    vanished = [
        f"{key_id} ({name})" for key_id, name in (state.keys_at_start or {}).items() if key_id not in swept.listed_after
    ]
    return Aftermath(unfinished, tuple(swept.failed), vanished=tuple(vanished))


def _stopped_answering_at(state: RunState) -> str | None:
    """When the deployment stopped answering, as this process saw it or a test on an xdist worker met it."""
    return state.target.api.stopped_answering_at or state.results.stopped_answering_at


def _why_unfinished(session: pytest.Session, state: RunState) -> str | None:
    if state.settings.collect_only:
        return "the tests were only collected (--collect-only), none ran"
    if state.settings.setup_only:
        return "only the tests' fixtures were set up (--setup-only), no test ran"
    if state.settings.dry_run:
        where = state.settings.base_url or "a deployment"
        return f"a dry run (--dry-run) sent nothing to {where}: its tests judged the embedded reference, not it"
    stopped_at = _stopped_answering_at(state)
    interrupted = "it was interrupted (Ctrl-C or SIGTERM) before every test ran"
    if stopped_at:
        was_interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        return (f"{interrupted}, and " if was_interrupted else "") + (
            f"the deployment stopped answering at {stopped_at}: the tests that met its timeouts or broken "
            "connections failed, every later request was skipped"
        )
    if session.exitstatus == pytest.ExitCode.INTERRUPTED:
        return interrupted
    if state.results.rate_limited:
        return f"the deployment rate-limited it ({state.results.rate_limited}); the tests that met a 429 were skipped"
    if session.exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return "an internal error of the suite stopped it"
    if session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        return "a usage error stopped it before the tests ran"
    if session.shouldstop or session.shouldfail:
        return f"it stopped early ({session.shouldstop or session.shouldfail})"
    if not state.results.ran:
        return "no test ran (every test was deselected)"
    return None


def _exit_status(conclusion: gate.Conclusion, aftermath: Aftermath, results: Results, status: int) -> int:
    """The run's exit status, decided here alone from the verdict: 0 pass, 1 fail, 17 partial; an
    incomplete run says why it stopped (16 the deployment stopped answering, 18 the suite crashed,
    pytest's own usage or internal error) or else 15."""
    verdict = conclusion.verdict
    if verdict == Verdict.PASS:
        return pytest.ExitCode.OK
    if aftermath.stopped_answering:
        return STOPPED_ANSWERING
    if verdict == Verdict.FAIL:
        return pytest.ExitCode.TESTS_FAILED
    if verdict == Verdict.PARTIAL:
        return PARTIAL
    if results.crashes or results.unattributed:
        return SUITE_CRASHED
    return status if status in _KEPT_STATUSES else INCOMPLETE


def _planned_requests(state: RunState) -> list[str]:
    planned = safety.planned_requests(state.target)
    return [
        f"dry run: nothing was sent to {state.settings.base_url or 'a deployment'}; against the embedded "
        "reference the run sent these state-changing requests:",
        *(f"  {line}" for line in planned or ["none"]),
    ]


def _write_reports(settings: Settings, document: dict[str, Any], redact: Redactor) -> None:
    """Every report file, each redacted once more as it is written."""
    if settings.conformance_report:
        json_report.write(settings.conformance_report, document, redact)
    if settings.summary_md:
        json_report.write_text(settings.summary_md, markdown.render(document), redact)
    if settings.junit_path:
        junit.add_verdict(settings.junit_path, document, redact)
