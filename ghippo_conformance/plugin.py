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
from ghippo_conformance.checks.keys import KeyLedger, KeysUnreadable
from ghippo_conformance.checks.token_records import TokenRecords
from ghippo_conformance.reports import console, json_report
from ghippo_conformance.reports.html import HtmlMatrix
from ghippo_conformance.run_state import RunState
from ghippo_conformance.target import preflight, safety, session
from ghippo_conformance.target import profile as profile_module
from ghippo_conformance.target.http import RateLimited
from ghippo_conformance.target.inert import inert
from ghippo_conformance.target.scrub import scrub
from ghippo_conformance.target.settings import Settings, add_options, resolve
from ghippo_conformance.verdict import catalogue as catalogue_module
from ghippo_conformance.verdict import gate
from ghippo_conformance.verdict.baseline import BaselineError
from ghippo_conformance.verdict.outcomes import (
    APPLICABILITY_PROPERTY,
    RATE_LIMITED_PROPERTY,
    SECRET_LEAK_PROPERTY,
    STOPPED_ANSWERING_PROPERTY,
    NotApplicable,
    Outcome,
    without_xdist_group,
)
from ghippo_conformance.verdict.waivers import WaiverError

_SHARED = "ghippo_target"
_NOT_APPLICABLE = pytest.StashKey[str]()  # on an item: why its requirement does not apply


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed, before pytest-html's
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): the catalogue requirement this test checks")
    config.addinivalue_line("markers", "key_slots: the test creates keys, which share the user's quota")
    if config.option.help or config.option.version:
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
        config.pluginmanager.register(HtmlMatrix(lambda: state.report, state.target.redact), "ghippo-html-matrix")


def _open_run(config: pytest.Config, settings: Settings) -> RunState:
    """Load what the run reads, open the target and run the session-start check."""
    started = json_report.now()
    try:
        cases.check_all()
        catalogue = catalogue_module.load()
        inputs = gate.load_inputs(settings, catalogue)
        profile = profile_module.load(settings.profile, settings.profile_overrides)
        shared = getattr(config, "workerinput", {}).get(_SHARED)
        target = session.open_target(settings, profile, shared=shared)
    except (
        cases.CaseTableError,
        catalogue_module.CatalogueError,
        WaiverError,
        BaselineError,
        profile_module.ProfileError,
        preflight.MissingCredentials,
    ) as error:
        raise pytest.UsageError(str(error)) from None
    except preflight.PreflightError as error:
        run_end.stopped_at_start(settings, catalogue, inputs, profile, error, started=started)
        pytest.exit(str(error), returncode=error.exit_code)
    is_worker = hasattr(config, "workerinput")
    token_records = _token_records(settings, target)
    target.notices += token_records.problems
    return RunState(
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


def _token_records(settings: Settings, target: session.Target) -> TokenRecords:
    """This deployment's token records; none are kept for the embedded reference, which lives for one run."""
    embedded = (
        "the embedded reference lives for one run, so no later run can check its tokens: run against a "
        "deployment (--base-url) at least a day apart, keeping --state-dir between the runs"
    )
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
    state.notes += safety.group_and_filter(config, state.settings, items, requirement_of)


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up: a test that does not apply sends nothing
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = run_state.of(item.config)
    if state is not None:
        state.target.api.leaks.during = without_xdist_group(item.nodeid)  # a leak is reported with its test
    reason = item.stash.get(_NOT_APPLICABLE, None)
    if reason:
        raise NotApplicable(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    test_report = yield
    state = run_state.of(item.config)
    # The report crosses to the xdist controller as data: the exception's type does not.
    if call.excinfo is not None and call.excinfo.errisinstance(NotApplicable):
        test_report.user_properties = [
            *test_report.user_properties,
            (APPLICABILITY_PROPERTY, str(Outcome.NOT_APPLICABLE)),
        ]
    if call.excinfo is not None and call.excinfo.errisinstance(RateLimited):
        test_report.user_properties = [*test_report.user_properties, (RATE_LIMITED_PROPERTY, call.excinfo.value.msg)]
    if state is not None and state.target.api.stopped_answering_at:
        stopped = (STOPPED_ANSWERING_PROPERTY, state.target.api.stopped_answering_at)
        test_report.user_properties = [*test_report.user_properties, stopped]
    if state is not None:
        leaks = [(SECRET_LEAK_PROPERTY, leak.report()) for leak in state.target.api.leaks.take()]
        test_report.user_properties = [*test_report.user_properties, *leaks]
        # Redacted, and inert: a failure may quote a value the deployment sent (a decoded JSON string
        # may hold any control character), and pytest prints and writes it as it stands.
        redact = state.target.redact
        scrub(test_report, lambda text: inert(redact(text)))
    return test_report


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
    passed = state.report["verdict"] == "pass"
    terminalreporter.write_sep("=", "conformance verdict", green=passed, red=not passed, bold=True)
    for line in [*console.verdict_block(state.report), *state.notes]:
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
def token_records(pytestconfig: pytest.Config) -> TokenRecords:
    """The tokens earlier runs kept for this deployment's expiry check (AUTH-EXPIRED-OWN)."""
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
