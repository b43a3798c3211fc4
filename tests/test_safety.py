"""Safe on a real deployment: the run leaves the deployment's keys exactly as it found them."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from ghippo_conformance.run_end import INCOMPLETE, PARTIAL, STOPPED_ANSWERING, SUITE_CRASHED
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start
from selftest import suite_process
from selftest.suite_process import suite_command, suite_environment
from suite_runner import ROOT, run_suite

API = "/apis/ghippo.io/v1alpha1"
OUTPUT_TAIL = 4000  # characters of a run's output an assertion message carries
LEFTOVERS_LINE = "left on the deployment, remove by hand:"


def target_args(reference):
    return [
        "--base-url",
        reference.base_url,
        "--ak",
        reference.credentials["ak"],
        "--sk",
        reference.credentials["sk"],
        "--max-rps",
        "0",
    ]


def suite_running(reference, *args: str) -> subprocess.Popen:
    """`pytest suites -q …` against `reference`, started and not waited for."""
    return subprocess.Popen(
        suite_command("-q", *args, *target_args(reference)),
        cwd=ROOT,
        env=suite_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_holding_a_key(reference, *args: str) -> subprocess.Popen:
    """`pytest suites -q -k test_keys …` against `reference`, returned once the run holds a key of
    its own (the reference's latency keeps each key alive for several round trips)."""
    before = len(reference.admin_key_ids())
    run = suite_running(reference, "-k", "test_keys", *args)
    deadline = time.monotonic() + 60
    while len(reference.admin_key_ids()) <= before and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(reference.admin_key_ids()) > before, "the run never created a key"
    return run


@pytest.mark.suite_run
@pytest.mark.parametrize("interrupt", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_interrupted_run_removes_its_keys(interrupt):
    # The signal lands while the run holds keys of its own.
    with start(latency_s=0.03) as reference:
        before = reference.admin_key_ids()
        run = run_holding_a_key(reference)
        run.send_signal(interrupt)
        output, _ = run.communicate(timeout=60)
        assert reference.admin_key_ids() == before, output


@pytest.mark.suite_run
def test_run_interrupted_mid_run_is_incomplete_everywhere(tmp_path):
    # A run that did not run its tests vouches for nothing: no report and no console line may say pass.
    reports = {"json": tmp_path / "report.json", "md": tmp_path / "summary.md", "junit": tmp_path / "junit.xml"}
    with start(latency_s=0.02) as reference:
        run = suite_running(
            reference,
            "--conformance-report",
            str(reports["json"]),
            "--summary-md",
            str(reports["md"]),
            "--junitxml",
            str(reports["junit"]),
        )
        # Once the tests are under way, not at a fixed time: a loaded machine may still be collecting.
        deadline = time.monotonic() + 60
        while reference.request_count < 40 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=60)
    tail = output[-OUTPUT_TAIL:]
    assert run.returncode == INCOMPLETE, tail
    assert "verdict: incomplete" in output and "verdict: pass" not in output, tail
    written = json.loads(reports["json"].read_text())
    assert written["verdict"] == "incomplete", written["reasons"]
    assert any("interrupted" in reason for reason in written["reasons"]), written["reasons"]
    assert "conformance: incomplete" in reports["md"].read_text()
    assert '"conformance_verdict" value="incomplete"' in reports["junit"].read_text()


@pytest.mark.suite_run
@pytest.mark.parametrize("only", ["--collect-only", "--setup-only"])
def test_collect_or_set_up_only_is_incomplete(only):
    with start() as reference:
        run = run_suite(*target_args(reference), only)
    assert run.exit_code == INCOMPLETE and "verdict: incomplete" in run.output, run.output[-OUTPUT_TAIL:]


def child_processes(pid: int) -> list[int]:
    """The direct children of `pid` (an xdist controller's are its workers), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The parent pid is the second field after the parenthesised command name.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.suite_run
def test_run_whose_workers_die_removes_their_keys():
    # Every worker is killed while the run holds a key of its own: no teardown runs in them, so
    # the controller's run-end sweep must find and delete the orphaned keys by the run's prefix.
    with start(latency_s=0.03) as reference:
        before = reference.admin_key_ids()
        run = run_holding_a_key(reference, "-n", "2")
        workers = child_processes(run.pid)
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        output, _ = run.communicate(timeout=120)
        tail = output[-OUTPUT_TAIL:]
        assert workers, f"no worker process found under the run\n{tail}"
        assert "crashed" in output, f"no worker crash reported: {workers} were killed too late?\n{tail}"
        assert reference.admin_key_ids() == before, tail
        # A dead worker is the suite's crash, not the deployment's failure: the run is incomplete.
        assert run.returncode == SUITE_CRASHED and "verdict: incomplete" in output, tail


@pytest.fixture
def full_reference():
    """A user already at the two-key limit with keys the suite did not create."""
    with start(preexisting_keys=2) as reference:
        yield reference


@pytest.mark.suite_run
@pytest.mark.parametrize(
    ("mode", "exit_code"),
    [
        # The user holds as many keys as the limit allows: the key checks cannot be made, so the run is partial.
        ([], PARTIAL),
        (["--read-only"], PARTIAL),
        (["-n", "2"], PARTIAL),
        (["--dry-run"], INCOMPLETE),  # nothing was judged of the deployment
        (["--cleanup"], 0),
    ],
    ids=["normal", "read-only", "parallel", "dry-run", "cleanup"],
)
def test_preexisting_keys_survive(full_reference, mode, exit_code, tmp_path):
    before = full_reference.admin_key_ids()
    report = tmp_path / "report.json"
    run = run_suite(*target_args(full_reference), "--conformance-report", str(report), *mode)
    assert full_reference.admin_key_ids() == before, run.output
    assert run.exit_code == exit_code, run.output
    if mode != ["--cleanup"]:  # a cleanup runs no test and writes no report
        written = json.loads(report.read_text())
        assert written["leftovers"] == [] and written["sweep_error"] is None, run.output


@pytest.mark.suite_run
def test_limit_at_start_checks_refusal_only(full_reference, tmp_path):
    report = tmp_path / "report.json"
    run = run_suite(*target_args(full_reference), "--conformance-report", str(report), "-k", "test_keys")
    assert run.exit_code == PARTIAL, run.output
    outcomes = {r["id"]: r for r in json.loads(report.read_text())["requirements"]}
    assert outcomes["KEY-LIMIT"]["outcome"] == "passed"
    assert outcomes["KEY-LIMIT-RELEASE"]["outcome"] == "skipped"
    assert "never deletes" in outcomes["KEY-LIMIT-RELEASE"]["reason"]


@pytest.mark.suite_run
def test_cleanup_removes_only_leftovers_of_earlier_runs():
    with start(Behaviour(key_limit=3)) as reference:
        leftover = reference.add_key("conformance-0badc0de-keys")["id"]
        users_own = reference.add_key("conformance-mine")["id"]  # like ours, but no run id: the user's
        expected = [key for key in reference.admin_key_ids() if key != leftover]
        run = run_suite(*target_args(reference), "--cleanup")
        assert run.exit_code == 0, run.output
        assert reference.admin_key_ids() == expected and users_own in expected
        assert leftover in run.output


def admin_bearer(reference) -> dict[str, str]:
    token = httpx.get(f"{reference.base_url}{API}/token", params=reference.credentials).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def held_keys(reference) -> dict[str, str]:
    """id -> name of every key the admin holds, as the reference lists them."""
    listed = httpx.get(f"{reference.base_url}{API}/current-user/accesstokens", headers=admin_bearer(reference))
    held = {key["id"]: key["name"] for key in listed.json()["items"]}
    stored = reference.admin_key_ids()
    assert list(held) == stored, f"the reference lists {held}, yet stores {stored}"
    return held


def as_leftovers(keys: dict[str, str]) -> list[str]:
    """Keys as the report lists them, sorted."""
    return sorted(f"{key_id} ({name})" for key_id, name in keys.items())


def test_reference_whose_deletes_fail_answers_500_and_keeps_the_key():
    with start(Behaviour(deletes_fail=True)) as reference:
        [key_id] = reference.admin_key_ids()
        response = httpx.delete(
            f"{reference.base_url}{API}/current-user/accesstokens/{key_id}", headers=admin_bearer(reference)
        )
        assert response.status_code == 500, response.text
        assert response.json() == {"code": 13, "message": "internal error", "details": []}
        assert reference.admin_key_ids() == [key_id]


DELETES_FAIL = Behaviour(deletes_fail=True)  # every delete answers 500 and the key stays
DELETES_NOTHING = Behaviour(delete_keeps_key=True)  # every delete answers 200 {} and the key stays


def run_where_deletes_fail(tmp_path, *args, behaviour=DELETES_FAIL):
    """The suite against a reference whose deletes remove nothing, holding one key of the user's.
    Returns the run, its JSON report, the user's key and this run's keys (id -> name) still held."""
    with start(behaviour) as reference:
        [users_own] = reference.admin_key_ids()
        run = run_suite(*target_args(reference), "--conformance-report", str(tmp_path / "report.json"), *args)
        held = held_keys(reference)
    tail = run.output[-OUTPUT_TAIL:]
    run_id = re.search(r"run id ([0-9a-f]{8})", run.output)
    assert run_id, tail
    ours = {key_id: name for key_id, name in held.items() if name.startswith(f"conformance-{run_id[1]}-")}
    assert held.keys() == {users_own} | ours.keys(), f"neither the user's nor this run's: {held}\n{tail}"
    assert held[users_own] == "preexisting-1", tail
    return run, json.loads((tmp_path / "report.json").read_text()), users_own, ours


@pytest.mark.suite_run
@pytest.mark.parametrize("behaviour", [DELETES_FAIL, DELETES_NOTHING], ids=["delete-answers-500", "delete-answers-200"])
def test_keys_the_run_cannot_remove_are_listed_by_id_and_fail_it(tmp_path, behaviour):
    # A 2xx from DELETE is no proof: the key must be gone from the list.
    summary_md = tmp_path / "summary.md"
    run, report, users_own, ours = run_where_deletes_fail(
        tmp_path, "--summary-md", str(summary_md), behaviour=behaviour
    )
    tail = run.output[-OUTPUT_TAIL:]
    assert ours, f"the run left no key of its own behind, so nothing here is checked\n{tail}"
    assert run.exit_code == 1 and report["verdict"] == "fail", tail
    assert sorted(report["leftovers"]) == as_leftovers(ours), tail
    lines = [line for line in run.output.splitlines() if line.startswith(LEFTOVERS_LINE)]
    assert len(lines) == 1 and all(key_id in lines[0] for key_id in ours), tail
    assert users_own not in lines[0], lines[0]
    summary = summary_md.read_text()
    assert all(f"- `{leftover}`" in summary for leftover in report["leftovers"]), summary


@pytest.mark.suite_run
def test_a_key_of_the_users_that_vanishes_fails_the_run(tmp_path):
    # Each delete removes the user's oldest key instead of the one named: the run never asked for it.
    report_path = tmp_path / "report.json"
    with start(Behaviour(delete_removes_oldest=True)) as reference:
        [users_own] = reference.admin_key_ids()
        run = run_suite(*target_args(reference), "--conformance-report", str(report_path), "-k", "test_keys")
    report = json.loads(report_path.read_text())
    assert run.exit_code == 1 and report["verdict"] == "fail", run.output[-OUTPUT_TAIL:]
    assert report["vanished"] == [f"{users_own} (preexisting-1)"], report
    assert any(users_own in reason and "vanished" in reason for reason in report["reasons"]), report["reasons"]


@pytest.mark.suite_run
def test_every_report_shows_the_same_leftovers_and_verdict_as_the_exit_code(tmp_path):
    # The token tests pass when deletes fail; the second key pair one of them creates stays behind,
    # so the leftover alone decides the verdict: each report must say so, not only the exit code.
    run, report, _, ours = run_where_deletes_fail(
        tmp_path,
        "-k",
        "test_token",
        "--summary-md",
        str(tmp_path / "summary.md"),
        "--html",
        str(tmp_path / "report.html"),
        "--junitxml",
        str(tmp_path / "junit.xml"),
    )
    tail = run.output[-OUTPUT_TAIL:]
    leftovers = as_leftovers(ours)
    assert ours and sorted(report["leftovers"]) == leftovers, tail
    assert run.exit_code == 1 and report["verdict"] == "fail", tail
    assert any("left 1 key(s) of its own on the deployment" in reason for reason in report["reasons"]), report[
        "reasons"
    ]
    console = run.output.partition("conformance verdict")[2]
    assert "verdict: fail" in console and all(key in console for key in leftovers), tail
    summary = (tmp_path / "summary.md").read_text()
    assert "Ghippo conformance: fail" in summary and all(f"- `{key}`" in summary for key in leftovers), summary
    html = (tmp_path / "report.html").read_text()
    assert 'class="verdict-fail">fail<' in html and all(f"<li><code>{key}</code></li>" in html for key in leftovers)
    junit = (tmp_path / "junit.xml").read_text()
    assert '<property name="conformance_verdict" value="fail" />' in junit, junit[:2000]
    assert all(key in junit for key in leftovers), junit[:2000]


@pytest.mark.suite_run
def test_run_that_loses_the_deployment_says_it_could_not_check_for_leftovers(tmp_path):
    # The deployment goes away while the run holds a key: the run-end sweep cannot list the keys,
    # and the operator must be told to look, with the report still written. The deployment stopped
    # answering, so the verdict is incomplete with an exit status of its own, whatever failed.
    report = tmp_path / "report.json"
    with start(latency_s=0.03) as reference:
        run = run_holding_a_key(
            reference, "--conformance-report", str(report), "--summary-md", str(tmp_path / "summary.md")
        )
        reference.stop()
        output, _ = run.communicate(timeout=120)
    tail = output[-OUTPUT_TAIL:]
    assert run.returncode == STOPPED_ANSWERING, tail
    assert "could not check for keys this run left behind" in output, tail
    written = json.loads(report.read_text())
    assert written["verdict"] == "incomplete", tail
    assert any("the deployment stopped answering at" in reason for reason in written["reasons"]), written["reasons"]
    assert written["sweep_error"].startswith("could not check for keys this run left behind"), written["sweep_error"]
    assert "### Keys this run could not check" in (tmp_path / "summary.md").read_text()


@pytest.mark.suite_run
def test_read_only_says_what_it_left_out():
    with start() as reference:
        run = run_suite(*target_args(reference), "--read-only")
        assert run.exit_code == PARTIAL and "verdict: partial" in run.output, run.output
        left_out = "left out by --read-only: its tests create, change or delete keys"
        wholly = next(line for line in run.output.splitlines() if line.endswith(f": {left_out}"))
        for whole in ("SCHEMA-KEY", "KEY-CREATE", "KEY-SHOWN-ONCE", "KEY-LIMIT", "KEY-LIMIT-RELEASE", "KEY-REVOKE"):
            assert f"{whole} (MUST)" in wholly, run.output
        for part in ("TOKEN-BAD-CREDENTIALS", "AUTH-ANY-METHOD", "API-AUTH-ENFORCED", "API-ACTS-AS-BEARER"):
            assert re.search(rf"not judged: {part} \(MUST\): {left_out} \(\d+ of its \d+ tests passed\)", run.output)


@pytest.mark.suite_run
def test_dry_run_lists_state_changing_requests_without_sending_them():
    with start() as reference:
        before = reference.request_count
        run = run_suite(*target_args(reference), "--dry-run")
        assert run.exit_code == INCOMPLETE and "verdict: incomplete" in run.output, run.output
        assert "a dry run (--dry-run) sent nothing to" in run.output, run.output
        assert reference.request_count == before, "a dry run sent requests to the deployment"
        assert "POST /apis/ghippo.io/v1alpha1/current-user/accesstoken" in run.output
        assert "DELETE /apis/ghippo.io/v1alpha1/current-user/accesstokens/" in run.output


VARIANTS = {
    "reference": {},
    "accepts-alg-none": {"accept_alg_none": True},
    "total-is-page-count": {"total_is_page_count": True},
    "slot-not-released": {"release_slot_on_delete": False},
}


@pytest.mark.suite_run
@pytest.mark.parametrize("variant", VARIANTS)
def test_parallel_run_reports_what_a_serial_run_reports(variant, tmp_path):
    def outcomes(*extra):
        with start(Behaviour.from_overrides(VARIANTS[variant])) as reference:
            return suite_process.run_suite(reference.base_url, "dce5-aksk", reference.credentials, *extra).outcomes()

    assert outcomes("-n", "4") == outcomes()
