"""The pytest plugin: options, the target, requirement bookkeeping and the verdict.

A run flows: options (Settings) → the target and its session-start check (pytest_configure) →
collection and applicability → the tests, every request through the one HTTP helper → the end of
the run (run_end.finish: sweep, verdict, exit status, reports) → the console verdict.
"""

from __future__ import annotations

import httpx
import pytest

from ghippo_conformance import run_end, run_state
from ghippo_conformance.checks import cases
from ghippo_conformance.checks.generated import keep_hypothesis_cache_out_of_working_directory
from ghippo_conformance.checks.moved_clock import MovedClock
from ghippo_conformance.checks.token_records import TokenRecords
from ghippo_conformance.deployment import preflight, safety, session
from ghippo_conformance.deployment import profile as profile_module
from ghippo_conformance.deployment.http import RateLimited
from ghippo_conformance.deployment.inert import inert
from ghippo_conformance.deployment.keys import KeyLedger, KeysUnreadable
from ghippo_conformance.deployment.replay import replay_lines
from ghippo_conformance.deployment.scrub import scrub
from ghippo_conformance.deployment.settings import Settings, resolve
from ghippo_conformance.reporting import console, json_report, progress, reproduce
from ghippo_conformance.reporting.html import HtmlMatrix
from ghippo_conformance.run_state import RunState
from ghippo_conformance.verdict import catalogue as catalogue_module
from ghippo_conformance.verdict import failures, gate, selection
from ghippo_conformance.verdict.baseline import BaselineError
from ghippo_conformance.verdict.outcomes import (
    CHECKABLE_AFTER_PROPERTY,
    DEPLOYMENT,
    FAILURE_OF_PROPERTY,
    RATE_LIMITED_PROPERTY,
    SECRET_LEAK_PROPERTY,
    SKIP_KIND_PROPERTY,
    STOPPED_ANSWERING_PROPERTY,
    SUITE,
    NotApplicable,
    Outcome,
    Pending,
    failure_message,
    without_xdist_group,
)
from ghippo_conformance.verdict.waivers import WaiverError

# The suite's options: already registered when installed as an entry point (options.py says why),
# else registered here.
pytest_plugins = ["ghippo_conformance.options"]

_SHARED = "ghippo_target"
_LEFT_OUT = "ghippo_left_out"  # workeroutput key: (node id, requirement, outcome, why) of each test left out
_LEFT_OUT_BECAUSE = pytest.StashKey[str]()  # on an item: why the operator's options leave it out
_NOT_APPLICABLE = pytest.StashKey[str]()  # on an item: why its requirement does not apply
# pytest's commands that only show something (its help, markers, fixtures, cache, the plan of a
# run): they contact no deployment, start no reference and give no verdict. --collect-only gives
# its verdict (incomplete), with a target that sends nothing (session.open_target).
_SHOWING_ONLY = ("help", "version", "markers", "showfixtures", "show_fixtures_per_test", "cacheshow", "setupplan")
_PACED_AT_START = pytest.StashKey[float]()  # on an xdist worker's item: the pacing waited before it began
# The section a crash of the suite adds to pytest's own report of the test, so that the console says
# what it is where the traceback shows.
_CRASH_SECTION = (
    "crash of the suite",
    "This is a crash of the suite's own code, not a verdict on the deployment: the test judged nothing. "
    "Please report it, with the traceback above.",
)


@pytest.hookimpl(tryfirst=True)  # before pytest starts a session: the listing contacts nothing
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if not config.getoption("list_requirements", False):
        return None
    try:
        print(console.catalogue_listing(catalogue_module.load()))
    except catalogue_module.CatalogueError as error:
        print(f"ERROR: {error}")
        return pytest.ExitCode.USAGE_ERROR
    return pytest.ExitCode.OK


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed, before pytest-html's
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): the catalogue requirement this test checks")
    config.addinivalue_line("markers", "key_slots: the test creates keys, which share the user's quota")
    if any(config.getoption(dest, None) for dest in _SHOWING_ONLY):
        return
    keep_hypothesis_cache_out_of_working_directory()
    settings = resolve(config)
    state = _open_run(config, settings)
    run_state.keep(config, state)
    config.add_cleanup(lambda: session.close(state.target))
    safety.configure(config, settings, state.target)
    if not state.is_worker:
        # Registered here, before pytest-html registers its own plugin: both end the session last
        # (trylast), and of two such hooks the one registered first runs first.
        config.pluginmanager.register(_RunEnd(state), "ghippo-run-end")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistController(config, state), "ghippo-xdist-controller")
    if settings.html_path and not state.is_worker:
        config.option.self_contained_html = True  # read by pytest-html's own pytest_configure, after this one
        config.pluginmanager.register(
            HtmlMatrix(lambda: state.report, state.target.redact, embedded=state.target.embedded is not None),
            "ghippo-html-matrix",
        )


def _open_run(config: pytest.Config, settings: Settings) -> RunState:
    """Load what the run reads, open the target and run the session-start check."""
    started = json_report.now()
    try:
        cases.check_all()
        catalogue = catalogue_module.load()
        selection.check_requirement_ids(settings.requirements, catalogue, given=config.getoption("requirement"))
        inputs = gate.load_inputs(settings, catalogue)
        profile = profile_module.load(settings.profile, settings.profile_overrides)
        shared = getattr(config, "workerinput", {}).get(_SHARED)
        target = session.open_target(settings, profile, shared=shared)
    except (
        cases.CaseTableError,
        catalogue_module.CatalogueError,
        selection.UnknownRequirement,
        WaiverError,
        BaselineError,
        profile_module.ProfileError,
        preflight.MissingCredentials,
    ) as error:
        raise pytest.UsageError(str(error)) from None
    except preflight.PreflightError as error:
        run_end.stopped_at_start(settings, catalogue, inputs, profile, error, started=started)
        written = console.reports_written(settings, stopped_at_start=True)
        pytest.exit("\n".join([str(error), *written]), returncode=error.exit_code)
    is_worker = hasattr(config, "workerinput")
    reproduce.refer_secrets(target)
    token_records = _token_records(settings, target)
    target.notices += token_records.problems
    state = RunState(
        settings,
        target,
        catalogue,
        inputs,
        started=started,
        is_worker=is_worker,
        notes=list(target.notices),
        keys_at_start=None if is_worker else _keys_at_start(target),
        token_records=token_records,
    )
    state.results.not_collected_because = selection.named_only_some(config.args, config.invocation_params.dir)
    return state


def _token_records(settings: Settings, target: session.Target) -> TokenRecords:
    """This deployment's token records; none are kept for the embedded reference (expired_tokens moves its clock)."""
    embedded = "the embedded reference lives for one run: its clock is moved for its own tokens, none is kept"
    return TokenRecords(
        settings.state_dir, target.base_url, target.redact.add, disabled_because=embedded if target.embedded else ""
    )


def _keys_at_start(target: session.Target) -> dict[str, str] | None:
    try:
        return safety.keys_at_start(target)
    except (KeysUnreadable, httpx.HTTPError, RateLimited):
        return None  # KEY-CREATE and SCHEMA-KEY judge the list; a vanished key cannot be told here


class _XdistController:
    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self._config, self._state = config, state

    def pytest_configure_node(self, node) -> None:
        node.workerinput[_SHARED] = session.shareable(self._state.target)
        # A worker re-parses the original command line, so it would not see dist=loadgroup.
        node.workerinput[safety.LOADGROUP] = self._config.option.dist == "loadgroup"

    def pytest_testnodedown(self, node, error) -> None:
        # The workers collect, so they know which tests the operator left out; the controller judges.
        for entry in getattr(node, "workeroutput", {}).get(_LEFT_OUT, []):
            self._state.results.deselect(*entry)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = run_state.of(config)
    if state is None:
        return []
    target = state.target
    where = "embedded reference" if target.embedded else "given by --base-url"
    return [
        f"ghippo target: {target.base_url} ({where}), profile {target.profile.name} "
        f"({state.settings.profile_reason}; {target.profile.flow} flow), run id {target.run_id}"
    ]


def requirement_of(item: pytest.Item) -> str | None:
    """The requirement an item checks: a case row's own mark overrides the function's."""
    own = [m for m in item.own_markers if m.name == "requirement"]
    marker = own[-1] if own else item.get_closest_marker("requirement")
    return marker.args[0] if marker else None


@pytest.hookimpl(tryfirst=True)  # xdist's loadgroup reads the xdist_group marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = run_state.of(config)
    if state is None:
        return
    for item in items:
        requirement_id = requirement_of(item)
        if requirement_id is None or requirement_id not in state.catalogue:
            raise pytest.UsageError(
                f"{item.nodeid} names requirement {requirement_id!r}, which is not in "
                "suites/requirements.toml: every conformance test names a catalogue requirement"
            )
        requirement = state.catalogue[requirement_id]
        item.user_properties += [("requirement", requirement.id), ("level", str(requirement.level))]
        reason = requirement.not_applicable_because(state.target.profile)
        if reason:
            item.stash[_NOT_APPLICABLE] = reason
        if state.settings.read_only and safety.state_changing(item):
            item.stash[_LEFT_OUT_BECAUSE] = selection.READ_ONLY
    _select_requirements(config, state.settings.requirements, items)
    safety.group_and_filter(config, state.settings, items)


def pytest_sessionstart(session: pytest.Session) -> None:
    state = run_state.of(session.config)
    if state is not None and not state.is_worker:
        progress.start(session.config, state.target.api, state.settings.max_rps)


def _select_requirements(config: pytest.Config, requirement_ids: tuple[str, ...], items: list[pytest.Item]) -> None:
    """--requirement: keep only the tests of those requirements."""
    if not requirement_ids:
        return
    left_out = [item for item in items if requirement_of(item) not in requirement_ids]
    for item in left_out:
        item.stash[_LEFT_OUT_BECAUSE] = selection.not_selected(requirement_ids)
    items[:] = [item for item in items if requirement_of(item) in requirement_ids]
    config.hook.pytest_deselected(items=left_out)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Every test the operator's options leave out (-k, -m, --deselect, --read-only, --requirement …),
    recorded with why: its requirement is then not judged in full."""
    if not items:
        return
    config = items[0].config
    state = run_state.of(config)
    if state is None:
        return
    left_out = [(item.nodeid, requirement_of(item), *_left_out_as(item)) for item in items]
    for entry in left_out:
        state.results.deselect(*entry)
    if state.is_worker:
        config.workeroutput.setdefault(_LEFT_OUT, []).extend(left_out)


def _left_out_as(item: pytest.Item) -> tuple[str, str]:
    """The outcome and reason of a test left out, as plain text (they cross to the xdist controller): a
    test whose requirement does not apply stays so."""
    not_applicable = item.stash.get(_NOT_APPLICABLE, None)
    if not_applicable:
        return str(Outcome.NOT_APPLICABLE), not_applicable
    return str(Outcome.SKIPPED), item.stash.get(_LEFT_OUT_BECAUSE, None) or selection.deselected_by(item.config)


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up: a test that does not apply sends nothing
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = run_state.of(item.config)
    if state is not None:
        state.target.api.leaks.during = without_xdist_group(item.nodeid)  # a leak is reported with its test
    if state is not None and state.is_worker:
        item.stash[_PACED_AT_START] = state.target.api.paced_s
    reason = item.stash.get(_NOT_APPLICABLE, None)
    if reason:
        raise NotApplicable(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    test_report = yield
    state = run_state.of(item.config)
    # The report crosses to the xdist controller as data: the exception's type does not.
    outcome_properties = _outcome_properties(call, test_report)
    test_report.user_properties = [*test_report.user_properties, *outcome_properties]
    # JUnit writes a test's properties from its teardown report, which pytest makes from the item's.
    item.user_properties += [prop for prop in outcome_properties if prop[0] == FAILURE_OF_PROPERTY]
    if state is not None and state.target.api.stopped_answering_at:
        stopped = (STOPPED_ANSWERING_PROPERTY, state.target.api.stopped_answering_at)
        test_report.user_properties = [*test_report.user_properties, stopped]
    if state is not None:
        leaks = [(SECRET_LEAK_PROPERTY, leak.report()) for leak in state.target.api.leaks.take()]
        test_report.user_properties = [*test_report.user_properties, *leaks]
        # Redacted, and inert: a failure may quote a value the deployment sent (a decoded JSON string
        # may hold any control character), and pytest prints and writes it as it stands. Only the
        # curl lines this run rendered are offered for replay, never one a deployment wrote.
        redact, replay = state.target.redact, state.target.api.replay
        scrub(test_report, lambda text: replay.disown_others(inert(redact(text))))
        _how_to_reproduce(item, test_report, state)
        _pacing_for_the_controller(item, test_report, state)
    return test_report


def _how_to_reproduce(item: pytest.Item, test_report: pytest.TestReport, state: RunState) -> None:
    """A failed test's commands to rerun it, as a section of its report (the console and the HTML show it)."""
    requirement_id = requirement_of(item)
    if test_report.failed and requirement_id is not None:
        rerun = reproduce.Rerun(state.settings, reproduce.program(reproduce.invocation(item.config)))
        target = state.target
        curl_lines = replay_lines(failure_message(test_report))
        setup = reproduce.replay_setup(
            state.settings, target.base_url, target.profile, target.embedded is not None, curl_lines
        )
        # The id a run without xdist gives the test: loadgroup renames a grouped item, never its parent.
        nodeid = f"{item.parent.nodeid}::{item.name}"
        how = reproduce.instructions(rerun, requirement_id, nodeid, setup)
        test_report.sections.append(("how to reproduce", how))
        # JUnit writes the properties the test's last report carries, which pytest copies from the item.
        item.user_properties.append(("rerun", rerun.requirement(requirement_id)))


def _pacing_for_the_controller(item: pytest.Item, test_report: pytest.TestReport, state: RunState) -> None:
    """On an xdist worker, how long the test waited on pacing, carried on its last report."""
    started = item.stash.get(_PACED_AT_START, None)
    paced_s = state.target.api.paced_s - started if started is not None else 0.0
    if test_report.when == "teardown" and paced_s:
        test_report.user_properties = [*test_report.user_properties, (progress.PACED_PROPERTY, f"{paced_s:.3f}")]


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A failure's word leads with its requirement: pytest's short summary ("FAILED [KEY-REVOKE]
    suites/…::test_x - …") cuts the message at the terminal's width, never the word."""
    requirement_id = dict(getattr(report, "user_properties", ())).get("requirement")
    if not report.failed or requirement_id is None or hasattr(report, "wasxfail"):
        return None
    if report.when == "call":
        return "failed", "F", (f"FAILED [{requirement_id}]", {"red": True})
    return "error", "E", (f"ERROR [{requirement_id}]", {"red": True})


def _outcome_properties(call: pytest.CallInfo, test_report: pytest.TestReport) -> list[tuple[str, str]]:
    """What the exception of a test phase means for its outcome, as report properties."""
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, NotApplicable):
        return [(SKIP_KIND_PROPERTY, str(Outcome.NOT_APPLICABLE))]
    if isinstance(error, Pending):
        return [(SKIP_KIND_PROPERTY, str(Outcome.PENDING)), (CHECKABLE_AFTER_PROPERTY, error.checkable_after)]
    if isinstance(error, RateLimited):
        return [(RATE_LIMITED_PROPERTY, error.msg)]
    if not test_report.failed or error is None:
        return []
    if failures.of_deployment(error):
        return [(FAILURE_OF_PROPERTY, DEPLOYMENT)]
    test_report.sections.append(_CRASH_SECTION)
    return [(FAILURE_OF_PROPERTY, SUITE)]


class _RunEnd:
    """Records every test's outcome, and ends the run (run_end.finish) once the tests are done."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._state.results.record(report)

    # trylast: after the session fixtures' teardown (which deletes the keys the tests made) and
    # after xdist has stopped its workers, so the sweep sees what they left.
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run_end.finish(session, self._state)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = run_state.of(config)
    if state is None or state.report is None:
        return
    verdict = state.report["verdict"]
    colour = {"pass": "green", "partial": "yellow"}.get(verdict, "red")
    terminalreporter.write_sep("=", "conformance verdict", **{colour: True}, bold=True)
    lines = [*console.verdict_block(state.report), *console.rerun_lines(state.report), *state.notes]
    for line in [*lines, *console.reports_written(state.settings)]:
        terminalreporter.write_line(inert(state.target.redact(line)))


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> session.Target:
    return run_state.of(pytestconfig).target


@pytest.fixture(scope="session")
def profile(target: session.Target):
    return target.profile


@pytest.fixture(scope="session")
def api(target: session.Target):
    return target.api


def _need_bearer(target: session.Target) -> str:
    if target.bearer is None:
        pytest.skip(f"no usable bearer: {target.bearer_problem}")
    return target.bearer


@pytest.fixture(scope="session")
def bearer(target: session.Target) -> str:
    return _need_bearer(target)


@pytest.fixture(scope="session")
def credentials(target: session.Target):
    return target.credentials


@pytest.fixture(scope="session")
def expired_tokens(pytestconfig: pytest.Config, target: session.Target) -> MovedClock | TokenRecords:
    """Where AUTH-EXPIRED-OWN finds tokens whose exp has passed: this run's own, presented with the
    deployment's clock moved, when the run may move it (a reference deployment); else the tokens earlier
    runs kept for this deployment."""
    if target.reference_clock:
        return MovedClock(target.reference_clock)
    records = run_state.of(pytestconfig).token_records
    if records.disabled_because:
        pytest.skip(records.disabled_because)
    return records


@pytest.fixture(scope="session")
def key_ledger(target: session.Target):
    """Creates keys for tests and, at the end, removes exactly the ones this run created.

    A key that survives is found and reported by the run-end sweep (run_end.finish), once for the
    whole run and after every xdist worker."""
    ledger = KeyLedger(target.api, target.profile, _need_bearer(target), target.run_id)
    yield ledger
    ledger.delete_created()
