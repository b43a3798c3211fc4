"""What the console says while the run goes: which module of the suite it is in and how far, and the
pacing (--max-rps) when that is what the run is waiting for.

pytest's dots say that tests end, not what the run is doing: against a deployment, one test that
sends eighty requests at twenty a second is four silent seconds. Shown only where pytest shows its own
live progress, on a terminal at the default verbosity: never under -q or -v (which names every test
as it starts), never in a CI log that is not a terminal. Under xdist the controller shows it, from
what the workers' reports carry.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

import pytest

# A test that has waited this long on pacing gets a line saying so, updated at most this often.
NOTICE_AFTER_S = 1.0
_UPDATE_EVERY_S = 0.5
# The seconds an xdist worker's test waited on pacing, carried to the controller on its last report.
PACED_PROPERTY = "paced_s"


def shows_progress(verbosity: int, isatty: bool) -> bool:
    """Whether to show progress: on a terminal, at pytest's default verbosity."""
    return verbosity == 0 and isatty


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pacing_line(max_rps: float, waited_s: float, *, per_process: bool = False) -> str:
    each = " per process" if per_process else ""
    return f"pacing at {max_rps:g} requests/s{each} (--max-rps): {waited_s:.1f} s waited so far"


class Progress:
    """A pytest plugin on the controller (or the only process) of a run whose console shows progress."""

    def __init__(self, reporter, capture, api, max_rps: float | None) -> None:
        self._reporter = reporter  # pytest's TerminalReporter
        self._capture = capture  # pytest's CaptureManager: a line written during a test goes past its capture
        self._api = api  # this process's HTTP helper, which reports its pacing to `paced`
        self._max_rps = max_rps
        self._planned: dict[str, int] = {}  # module -> tests, in the order they run
        self._started: list[str] = []
        self._lock = threading.Lock()
        self._paced_at_test_start: float | None = None  # None: no test running in this process
        self._note_open = False  # a pacing line is on the console, not yet ended
        self._last_update = 0.0
        self._workers_paced_s = 0.0

    def plan(self, nodeids: Sequence[str]) -> None:
        self._planned = dict(Counter(map(module_of, nodeids)))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.plan([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: Sequence[str]) -> None:
        self.plan(ids)

    @pytest.hookimpl(trylast=True)  # after pytest has written the module's path at the start of its line
    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        with self._lock:
            self._paced_at_test_start = self._api.paced_s
        module = module_of(nodeid)
        if module in self._started or module not in self._planned:
            return
        self._started.append(module)
        where = f"(module {len(self._started)} of {len(self._planned)}, {self._planned[module]} tests)"
        if self._reporter.showfspath:
            self._reporter.write(where + " ", flush=True)  # the line reads "suites/test_keys.py (module …) ..."
        else:
            self._line(f"{module} {where}")  # xdist shows no paths: a line of its own

    def paced(self, paced_s: float) -> None:
        """The Api is about to wait on pacing, `paced_s` in all: on a test's long wait, say so, in place."""
        with self._lock:
            started = self._paced_at_test_start
            now = time.monotonic()
            if started is None or paced_s - started < NOTICE_AFTER_S or now - self._last_update < _UPDATE_EVERY_S:
                return
            self._last_update = now
            with self._capture.global_and_fixture_disabled():
                if self._note_open:
                    self._reporter.rewrite(pacing_line(self._max_rps, paced_s), erase=True)
                else:
                    self._open_line(pacing_line(self._max_rps, paced_s))
                self._reporter.flush()

    @pytest.hookimpl(tryfirst=True)  # before pytest writes the test's letter
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        with self._lock:
            if self._note_open:
                self._reporter.write("\n")  # the dots go on below the pacing line
                self._note_open = False
            if report.when == "teardown":
                self._paced_at_test_start = None
        paced = float(dict(report.user_properties).get(PACED_PROPERTY, 0))
        if paced and self._max_rps:
            self._workers_paced_s += paced
            if paced >= NOTICE_AFTER_S:
                self._line(pacing_line(self._max_rps, self._workers_paced_s, per_process=True))

    def _open_line(self, text: str) -> None:
        """Start a line of our own, leaving pytest's line as it was."""
        # pytest's writer keeps the width of the line it is on; there is no public way to ask it.
        if self._reporter._tw.width_of_current_line:
            self._reporter.write("\n")
        self._reporter.write(text)
        self._note_open = True

    def _line(self, text: str) -> None:
        self._open_line(text)
        self._reporter.write("\n", flush=True)
        self._note_open = False


def start(config: pytest.Config, api, max_rps: float | None) -> None:
    """Show progress if pytest shows its own live progress; `api` reports its pacing to it."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not shows_progress(config.get_verbosity(), reporter.isatty()):
        return
    progress = Progress(reporter, capture, api, max_rps)
    config.pluginmanager.register(progress, "ghippo-progress")
    api.on_pacing = progress.paced
