"""A broken deployment cannot hang the suite, exhaust its memory or get its credentials (issue 13).

Each test puts a fault-injecting proxy (fault_proxy.py) in front of the embedded reference and runs
the whole suite through it, as an operator would, in a subprocess: the run must end in time, stay
under the memory bound, never say pass, and write a report naming what went wrong. The tests
belong to no xdist group, so under tests/pytest.ini they spread over the workers; each has its own
reference and proxy on kernel-chosen ports, so two at once do not meet.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fault_proxy import (
    ESCAPES,
    Dies,
    Drip,
    EndlessBody,
    Fault,
    FaultProxy,
    GzipBomb,
    Hangs,
    RandomBytes,
    Redirect,
    Reset,
    Scope,
    SilentServer,
    TerminalEscapes,
    TooManyRequests,
    Witness,
    gzip_bomb,
)

from ghippo_conformance.checks import batch
from ghippo_conformance.deployment.http import Api, StoppedAnswering
from ghippo_conformance.deployment.preflight import TLS_FAILURE, UNREACHABLE
from ghippo_conformance.deployment.redact import Redactor
from ghippo_conformance.run_end import INCOMPLETE, STOPPED_ANSWERING
from ghippo_reference.server import start
from selftest.suite_process import suite_command, suite_environment
from suite_runner import ROOT

USERS = "/apis/ghippo.io/v1alpha1/users"
TOKEN = "/apis/ghippo.io/v1alpha1/token"
# Requests the controller sends before the first test: the session-start check (users list, token,
# users list with the bearer) and the listing of the user's keys. A fault scoped after them hits mid-run.
SESSION_START = 4
RUN_BOUND_S = 180
MEMORY_BOUND_MIB = 512
INTERRUPT_BOUND_S = 30
OUTPUT_TAIL = 4000


@dataclass(frozen=True)
class Run:
    exit_code: int
    output: str
    report: dict | None  # the JSON conformance report, None when none was written
    summary: str | None  # the Markdown summary
    peak_rss_mib: float
    ended_at: float  # time.monotonic() when the run was seen to end

    def tail(self) -> str:
        return self.output[-OUTPUT_TAIL:]


def run_suite_through(
    base_url: str, credentials: dict[str, str], scratch: Path, *args: str, while_running: Callable | None = None
) -> Run:
    """The whole suite against `base_url` in a subprocess, killed if it outlives RUN_BOUND_S.

    The peak resident memory is the child's own: os.wait4 returns the rusage of that one child (the
    accounting getrusage(RUSAGE_CHILDREN) sums, kept per child, its ru_maxrss the largest of the child
    and its waited-for descendants, xdist workers included), so no earlier child of this test
    process can hide or inflate it. `while_running(process)` is called once the run has started."""
    report, summary, output = scratch / "report.json", scratch / "summary.md", scratch / "output.txt"
    command = suite_command(
        "-q",
        "--base-url",
        base_url,
        "--ak",
        credentials["ak"],
        "--sk",
        credentials["sk"],
        "--max-rps",
        "0",
        "--conformance-report",
        str(report),
        "--summary-md",
        str(summary),
        *args,
    )
    started = time.monotonic()
    with output.open("w") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=suite_environment(), stdout=sink, stderr=subprocess.STDOUT)
    if while_running:
        while_running(process)
    while (waited := os.wait4(process.pid, os.WNOHANG))[0] == 0:
        if time.monotonic() - started > RUN_BOUND_S:
            process.kill()
            os.wait4(process.pid, 0)
            pytest.fail(f"the run was still going after {RUN_BOUND_S} s\n{output.read_text()[-OUTPUT_TAIL:]}")
        time.sleep(0.1)
    _, status, usage = waited
    process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
    return Run(
        process.returncode,
        output.read_text(),
        json.loads(report.read_text()) if report.is_file() else None,
        summary.read_text() if summary.is_file() else None,
        usage.ru_maxrss / 1024,  # KiB on Linux
        time.monotonic(),
    )


def assert_contained(run: Run, symptom: str) -> None:
    """What every hostile run must give: an end in time and memory, no pass anywhere, a report
    that names the symptom."""
    assert run.peak_rss_mib < MEMORY_BOUND_MIB, f"peak RSS {run.peak_rss_mib:.0f} MiB\n{run.tail()}"
    assert run.exit_code != 0, run.tail()
    assert "verdict: pass" not in run.output, run.tail()
    assert run.report is not None, f"no JSON report written\n{run.tail()}"
    assert run.report["verdict"] != "pass", run.report["reasons"]
    assert "conformance: pass" not in (run.summary or ""), run.summary
    written = json.dumps(run.report, ensure_ascii=False)
    assert symptom in written, f"the report never says {symptom!r}: {run.report['reasons']}\n{run.tail()}"


@dataclass(frozen=True)
class Case:
    fault: Callable[[Witness], Fault]  # given the witness a redirect may point to
    symptom: str  # what the report must say
    exit_codes: tuple[int, ...]
    still_answers: bool  # the deployment answers at the end: the run must leave its keys as they were
    args: tuple[str, ...] = ()


MID_RUN = Scope(after=SESSION_START)
CASES = {
    # Every request after the session start is dripped: three deadlines in a row stop the run.
    "slow-drip": Case(
        lambda _: Drip(scope=MID_RUN),
        "deadline",
        (STOPPED_ANSWERING,),
        still_answers=False,
        args=("--request-timeout", "2"),
    ),
    "endless-body": Case(
        lambda _: EndlessBody(scope=Scope(after=SESSION_START, path=USERS)),
        "body larger than 8 MiB",
        (1,),
        still_answers=True,
    ),
    "gzip-bomb": Case(
        lambda _: GzipBomb(scope=Scope(after=SESSION_START, path=USERS)),
        "body larger than 8 MiB",
        (1,),
        still_answers=True,
    ),
    "cross-host-redirect": Case(
        lambda witness: Redirect(to=witness.base_url, scope=MID_RUN), "302", (1,), still_answers=True
    ),
    # The token path: its requests go one at a time (the users list also gets concurrent batches,
    # where resets one in three may still fall on three requests in a row as sent).
    "resets": Case(
        lambda _: Reset(scope=Scope(after=SESSION_START, path=TOKEN, every=2)),
        "the connection failed",
        (1,),
        still_answers=True,
    ),
    "random-bytes-as-json": Case(
        lambda _: RandomBytes(scope=Scope(after=SESSION_START, path=USERS)),
        "application/json",
        (1,),
        still_answers=True,
    ),
    # A gateway rate-limits the users list mid-run: the tests that meet it skip, and a run with
    # skipped checks for that reason must never say pass.
    "rate-limited": Case(
        lambda _: TooManyRequests(scope=Scope(after=SESSION_START, path=USERS)),
        "the deployment rate-limited it",
        (INCOMPLETE,),
        still_answers=True,
    ),
    "dies-mid-run": Case(
        lambda _: Dies(scope=Scope(after=SESSION_START + 150)),
        "the deployment stopped answering at",
        (STOPPED_ANSWERING,),
        still_answers=False,
    ),
    # The workers meet the silence; the controller, which decides the verdict, must learn of it.
    "dies-mid-run-under-xdist": Case(
        lambda _: Dies(scope=Scope(after=SESSION_START + 150)),
        "the deployment stopped answering at",
        (STOPPED_ANSWERING,),
        still_answers=False,
        args=("-n", "2"),
    ),
}


@pytest.mark.suite_run
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_misbehaving_deployment_gets_a_bounded_run_that_never_passes(case, tmp_path):
    with start() as reference, Witness(host="127.0.0.2") as witness:
        keys_before = reference.admin_key_ids()
        with FaultProxy(reference.base_url, case.fault(witness)) as proxy:
            run = run_suite_through(proxy.base_url, reference.credentials, tmp_path, *case.args)
        assert_contained(run, case.symptom)
        assert run.exit_code in case.exit_codes, run.tail()
        # Redirects are never followed, so the credentials never leave the base URL's origin.
        assert not witness.requests, [request.headers for request in witness.requests]
        if case.still_answers:
            assert reference.admin_key_ids() == keys_before, run.tail()


@pytest.mark.suite_run
def test_terminal_controls_from_the_deployment_never_reach_the_console_or_summary_raw(tmp_path):
    # Every answer to the users list after the session start is a 401 whose error body holds escape
    # sequences: the failures quote it, and the console and the Markdown summary must show it inert.
    with start() as reference:
        fault = TerminalEscapes(scope=Scope(after=SESSION_START, path=USERS))
        with FaultProxy(reference.base_url, fault) as proxy:
            run = run_suite_through(proxy.base_url, reference.credentials, tmp_path)
    assert_contained(run, "expected")
    controls = {c for c in ESCAPES if not c.isprintable()}
    raw = sorted(c for c in controls if c in run.output or c in (run.summary or ""))
    assert not raw, f"raw control characters {raw!r} in the output or summary\n{run.tail()}"
    assert "\\x1b" in run.output, "the escape sequences were not shown at all"


@pytest.fixture(scope="module")
def tls_stall_run(tmp_path_factory) -> Run:
    """The suite pointed at https:// on a listener that never answers the TLS hello."""
    with SilentServer() as silent:
        return run_suite_through(
            silent.base_url, {"ak": "ak", "sk": "sk"}, tmp_path_factory.mktemp("tls"), "--request-timeout", "2"
        )


@pytest.mark.suite_run
def test_a_tls_handshake_that_never_completes_stops_the_run_at_its_deadline(tls_stall_run):
    run = tls_stall_run
    assert run.exit_code in (UNREACHABLE, TLS_FAILURE), run.tail()
    assert run.peak_rss_mib < MEMORY_BOUND_MIB and "verdict: pass" not in run.output, run.tail()


@pytest.mark.suite_run
def test_a_tls_handshake_that_never_completes_is_named_in_the_report(tls_stall_run):
    assert_contained(tls_stall_run, "TLS handshake")


def test_the_gzip_bomb_inflates_to_what_it_claims():
    # The bomb of the gzip-bomb case is built by repeating a compressed piece; a smaller one proves the stream valid.
    assert gzip.decompress(gzip_bomb(3)) == bytes(3 << 20)
    assert len(gzip_bomb(2048)) < 3 << 20


@pytest.mark.suite_run
def test_sigterm_to_a_run_whose_deployment_hangs_ends_it_in_bounded_time(tmp_path):
    # The deployment stops answering (each request read, never answered) once the tests are under
    # way; the run gets SIGTERM while it waits, with the default 10 s request timeout.
    hung_after = SESSION_START + 20
    signalled = {}

    def terminate_once_a_request_hangs(process: subprocess.Popen) -> None:
        deadline = time.monotonic() + RUN_BOUND_S
        while len(proxy.requests) <= hung_after and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        signalled["at"] = time.monotonic()

    with start() as reference, FaultProxy(reference.base_url, Hangs(scope=Scope(after=hung_after))) as proxy:
        run = run_suite_through(
            proxy.base_url, reference.credentials, tmp_path, while_running=terminate_once_a_request_hangs
        )
    ended_after = run.ended_at - signalled["at"]
    assert len(proxy.requests) > hung_after, f"no request hung before the signal\n{run.tail()}"
    assert ended_after < INTERRUPT_BOUND_S, f"the run ended {ended_after:.0f} s after SIGTERM\n{run.tail()}"
    assert_contained(run, "interrupted")
    assert run.exit_code in (INCOMPLETE, STOPPED_ANSWERING), run.tail()
    assert run.report["verdict"] == "incomplete" and "verdict: incomplete" in run.output, run.tail()


@pytest.mark.parametrize(
    "every, workers, stops", [(1, 8, True), (3, 1, False)], ids=["every-request-side-by-side", "one-in-three"]
)
def test_only_requests_in_a_row_stop_the_run(every, workers, stops):
    # Reset every request, eight at a time, and the run stops sending; reset one in three and it goes on.
    # (One in three is sent one at a time: side by side, the proxy's order of arrival is not the order sent.)
    with start() as reference, FaultProxy(reference.base_url, Reset(scope=Scope(path=USERS, every=every))) as proxy:
        api = Api(proxy.base_url, Redactor())
        with contextlib.suppress(StoppedAnswering):  # raised once the run sends nothing more
            batch.send_all(api, [batch.Request(number, USERS) for number in range(60)], workers)
        api.close()
    assert bool(api.stopped_answering_at) == stops, f"{len(proxy.requests)} sent, every {every}th reset"
    assert (len(proxy.requests) == 60) != stops, f"{len(proxy.requests)} of 60 sent"
