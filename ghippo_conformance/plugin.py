"""The pytest plugin: options, the target, requirement bookkeeping and the verdict."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

import httpx
import pytest

from ghippo_conformance.verdict import catalogue as catalogue_module
from ghippo_conformance.reports import console, json_report as report, markdown as summary
from ghippo_conformance.verdict import gate
from ghippo_conformance.target import preflight, profile as profile_module, safety, session
from ghippo_conformance.verdict.baseline import BaselineError
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.checks.generated import keep_hypothesis_cache_out_of_working_directory
from ghippo_conformance.reports.html import HtmlMatrix
from ghippo_conformance.target.http import RateLimited
from ghippo_conformance.checks.keys import KeyLedger
from ghippo_conformance.verdict.outcomes import NOT_APPLICABLE, Results
from ghippo_conformance.target.scrub import scrub
from ghippo_conformance.target.settings import Settings, add_options, resolve
from ghippo_conformance.verdict.waivers import WaiverError

TARGET = pytest.StashKey[session.Target]()
SETTINGS = pytest.StashKey[Settings]()
GATE_INPUTS = pytest.StashKey[gate.Inputs]()
RESULTS = pytest.StashKey[Results]()
STARTED = pytest.StashKey[str]()
REPORT = pytest.StashKey[dict]()  # the conformance report, once the session has concluded
NOTES = pytest.StashKey[list]()  # lines for the end of the terminal output
_SHARED = "ghippo_target"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_seed", None) is None:
        # Generated tests must be reproducible: pick the seed here and report it.
        config.option.hypothesis_seed = secrets.randbelow(2**32)
    config.addinivalue_line("markers", "requirement(id): the catalogue requirement this test checks")
    config.addinivalue_line("markers", "key_slots: the test creates keys, which share the user's quota")
    if config.option.help or config.option.version:
        return
    keep_hypothesis_cache_out_of_working_directory()
    settings = resolve(config)
    try:
        inputs = gate.load_inputs(settings, catalogue_module.load())
        profile = profile_module.load(settings.profile, settings.profile_overrides)
        shared = getattr(config, "workerinput", {}).get(_SHARED)
        target = session.open_target(settings, profile, shared=shared)
    except (WaiverError, BaselineError, profile_module.ProfileError, preflight.MissingCredentials) as error:
        raise pytest.UsageError(str(error)) from None
    except preflight.PreflightError as error:
        pytest.exit(str(error), returncode=error.exit_code)
    config.add_cleanup(lambda: session.close(target))
    config.stash[TARGET] = target
    config.stash[SETTINGS] = settings
    config.stash[GATE_INPUTS] = inputs
    config.stash[RESULTS] = Results()
    config.stash[STARTED] = report.now()
    config.stash[NOTES] = []
    safety.configure(config, target)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_RunEndSweep(target, config.stash[NOTES]), "ghippo-run-end-sweep")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistController(config, target), "ghippo-xdist-controller")
    if config.getoption("htmlpath", None) and not hasattr(config, "workerinput"):
        config.option.self_contained_html = True  # read by pytest-html's own pytest_configure, after this one
        config.pluginmanager.register(HtmlMatrix(lambda: config.stash.get(REPORT, None), target.redact),
                                      "ghippo-html-matrix")


class _XdistController:
    def __init__(self, config: pytest.Config, target: session.Target) -> None:
        self._config, self._target = config, target

    def pytest_configure_node(self, node) -> None:
        node.workerinput[_SHARED] = session.shareable(self._target)
        # A worker re-parses the original command line, so it would not see dist=loadgroup.
        node.workerinput[safety.LOADGROUP] = self._config.option.dist == "loadgroup"


def pytest_report_header(config: pytest.Config) -> list[str]:
    target = config.stash.get(TARGET, None)
    if target is None:
        return []
    where = "embedded reference" if target.embedded else "given by --base-url"
    return [f"ghippo target: {target.base_url} ({where}), profile {target.profile.name} "
            f"({target.profile.flow} flow), run id {target.run_id}"]


def requirement_of(item: pytest.Item) -> str | None:
    """The requirement an item checks: a case row's own mark overrides the function's."""
    own = [m for m in item.own_markers if m.name == "requirement"]
    marker = own[-1] if own else item.get_closest_marker("requirement")
    return marker.args[0] if marker else None


@pytest.hookimpl(tryfirst=True)  # xdist's loadgroup reads the xdist_group marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = config.stash.get(TARGET, None)
    if target is None:
        return
    catalogue: Catalogue = catalogue_module.load()
    for item in items:
        requirement_id = requirement_of(item)
        if requirement_id is None or requirement_id not in catalogue:
            raise pytest.UsageError(
                f"{item.nodeid} names requirement {requirement_id!r}, which is not in "
                "suites/requirements.toml: every conformance test names a catalogue requirement")
        requirement = catalogue[requirement_id]
        item.user_properties += [("requirement", requirement.id), ("level", requirement.level)]
        reason = requirement.not_applicable_because(target.profile)
        if reason:
            item.add_marker(pytest.mark.skip(reason=NOT_APPLICABLE + reason))
    config.stash[NOTES] += safety.group_and_filter(config, items, requirement_of)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    test_report = yield
    target = item.config.stash.get(TARGET, None)
    if target is not None:
        scrub(test_report, target.redact)
    return test_report


def pytest_sessionstart(session: pytest.Session) -> None:
    results = session.config.stash.get(RESULTS, None)
    if results is not None:
        session.config.pluginmanager.register(_Recorder(results), "ghippo-recorder")


class _RunEndSweep:
    """After session teardown: remove what this run still holds on the deployment, or say so, in
    the console and in the report; only then are the report's files written."""

    def __init__(self, target: session.Target, notes: list[str]) -> None:
        self._target, self._notes = target, notes

    @pytest.hookimpl(trylast=True)  # after the session fixtures' own teardown
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            if session.config.getoption("dry_run"):
                self._note_planned_requests(session.config)
            else:
                self._sweep(session)
        finally:
            _write_reports(session.config)

    def _note_planned_requests(self, config: pytest.Config) -> None:
        planned = safety.planned_requests(self._target)
        self._notes.append(f"dry run: nothing was sent to {config.getoption('base_url') or 'a deployment'}; "
                           f"against the embedded reference the run sent these state-changing requests:")
        self._notes += [f"  {line}" for line in planned] or ["  none"]

    def _sweep(self, session: pytest.Session) -> None:
        try:
            left_behind = safety.sweep_this_run(self._target)
        except (httpx.HTTPError, RateLimited) as error:
            session.config.stash[REPORT]["sweep_error"] = why = (
                f"could not check for keys this run left behind ({error}); list the user's keys and remove "
                f"those named {self._target.profile.keys.name_prefix}-{self._target.run_id}-…")
            self._notes.append(why)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        session.config.stash[REPORT]["leftovers"] = left_behind
        if left_behind:
            self._notes.append(f"could not remove keys this run created, remove them by hand: {left_behind}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


class _Recorder:
    def __init__(self, results: Results) -> None:
        self._results = results

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._results.record(report)


# tryfirst: pytest-html renders the page (with the matrix) in its own pytest_sessionfinish. The
# report's files wait for the run-end sweep (_RunEndSweep), which adds the keys it could not remove.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or TARGET not in config.stash:
        return
    target, settings = config.stash[TARGET], config.stash[SETTINGS]
    catalogue = catalogue_module.load()
    conclusion = gate.conclude(config.stash[RESULTS], catalogue, config.stash[GATE_INPUTS],
                               today=datetime.now(timezone.utc).date())
    config.stash[REPORT] = report.build(
        conclusion, catalogue, target, settings, started=config.stash[STARTED], seed=config.getoption("hypothesis_seed"))
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        failed = conclusion.verdict == "fail"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if failed else pytest.ExitCode.OK


def _write_reports(config: pytest.Config) -> None:
    """The JSON report and the Markdown summary, redacted once more as they are written."""
    document, settings, redact = config.stash[REPORT], config.stash[SETTINGS], config.stash[TARGET].redact
    if settings.conformance_report:
        report.write(settings.conformance_report, document, redact)
    if settings.summary_md:
        report.write_text(settings.summary_md, summary.render(document), redact)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    document = config.stash.get(REPORT, None)
    if document is None:
        return
    passed = document["verdict"] == "pass"
    terminalreporter.write_sep("=", "conformance verdict", green=passed, red=not passed, bold=True)
    for line in [*console.verdict_block(document), *config.stash[NOTES]]:
        terminalreporter.write_line(config.stash[TARGET].redact(line))


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> session.Target:
    return pytestconfig.stash[TARGET]


@pytest.fixture(scope="session")
def profile(target: session.Target):
    return target.profile


@pytest.fixture(scope="session")
def api(target: session.Target):
    return target.api


@pytest.fixture(scope="session")
def bearer(target: session.Target) -> str:
    return target.bearer


@pytest.fixture(scope="session")
def credentials(target: session.Target):
    return target.credentials


@pytest.fixture(scope="session")
def key_ledger(target: session.Target):
    """Creates keys for tests and, at the end, removes exactly the ones this run created.

    A key that survives is found and reported by the run-end sweep (_RunEndSweep), once for the
    whole run and after every xdist worker."""
    ledger = KeyLedger(target.api, target.profile, target.bearer, target.run_id)
    yield ledger
    ledger.delete_created()
