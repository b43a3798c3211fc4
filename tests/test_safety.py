"""Safe on a real deployment: the run leaves the deployment's keys exactly as it found them."""

import json
import signal
import subprocess
import time

import pytest

from reference.behaviour import Behaviour
from reference.server import start
from ghippo_conformance import suite_process
from ghippo_conformance.suite_process import suite_command, suite_environment
from suite_runner import ROOT, run_suite


def target_args(reference):
    return ["--base-url", reference.base_url, "--ak", reference.credentials["ak"],
            "--sk", reference.credentials["sk"], "--max-rps", "0"]


@pytest.mark.parametrize("interrupt", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_interrupted_run_removes_its_keys(interrupt):
    # Latency keeps each created key alive for several round trips, so the signal lands while
    # the run holds keys of its own.
    with start(latency_s=0.03) as reference:
        before = reference.admin_key_ids()
        run = subprocess.Popen(suite_command("-q", "-k", "test_keys", *target_args(reference)), cwd=ROOT,
                               env=suite_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while len(reference.admin_key_ids()) <= len(before) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(reference.admin_key_ids()) > len(before), "the run never created a key"
        run.send_signal(interrupt)
        output, _ = run.communicate(timeout=60)
        assert reference.admin_key_ids() == before, output


@pytest.fixture
def full_reference():
    """A user already at the two-key limit with keys the suite did not create."""
    with start(preexisting_keys=2) as reference:
        yield reference


@pytest.mark.parametrize("mode", [[], ["--read-only"], ["-n", "2"], ["--dry-run"], ["--cleanup"]],
                         ids=["normal", "read-only", "parallel", "dry-run", "cleanup"])
def test_preexisting_keys_survive(full_reference, mode, tmp_path):
    before = full_reference.admin_key_ids()
    report = tmp_path / "report.json"
    run = run_suite(*target_args(full_reference), "--conformance-report", str(report), *mode)
    assert full_reference.admin_key_ids() == before, run.output
    assert run.exit_code == 0, run.output


def test_limit_at_start_checks_refusal_only(full_reference, tmp_path):
    report = tmp_path / "report.json"
    run = run_suite(*target_args(full_reference), "--conformance-report", str(report), "-k", "test_keys")
    assert run.exit_code == 0, run.output
    outcomes = {r["id"]: r for r in json.loads(report.read_text())["requirements"]}
    assert outcomes["KEY-LIMIT"]["outcome"] == "passed"
    assert outcomes["KEY-LIMIT-RELEASE"]["outcome"] == "skipped"
    assert "never deletes" in outcomes["KEY-LIMIT-RELEASE"]["reason"]


def test_cleanup_removes_only_leftovers_of_earlier_runs():
    with start(Behaviour(key_limit=3)) as reference:
        leftover = reference.add_key("conformance-0badc0de-keys")["id"]
        users_own = reference.add_key("conformance-mine")["id"]  # like ours, but no run id: the user's
        expected = [key for key in reference.admin_key_ids() if key != leftover]
        run = run_suite(*target_args(reference), "--cleanup")
        assert run.exit_code == 0, run.output
        assert reference.admin_key_ids() == expected and users_own in expected
        assert leftover in run.output


def test_read_only_says_what_it_left_out():
    with start() as reference:
        run = run_suite(*target_args(reference), "--read-only")
        assert run.exit_code == 0, run.output
        assert "read-only" in run.output and "KEY-LIMIT" in run.output


def test_dry_run_lists_state_changing_requests_without_sending_them():
    with start() as reference:
        before = reference.request_count
        run = run_suite(*target_args(reference), "--dry-run")
        assert run.exit_code == 0, run.output
        assert reference.request_count == before, "a dry run sent requests to the deployment"
        assert "POST /apis/ghippo.io/v1alpha1/current-user/accesstoken" in run.output
        assert "DELETE /apis/ghippo.io/v1alpha1/current-user/accesstokens/" in run.output


VARIANTS = {"reference": {}, "accepts-alg-none": {"accept_alg_none": True},
            "total-is-page-count": {"total_is_page_count": True}, "slot-not-released": {"release_slot_on_delete": False}}


@pytest.mark.parametrize("variant", VARIANTS)
def test_parallel_run_reports_what_a_serial_run_reports(variant, tmp_path):
    def outcomes(*extra):
        with start(Behaviour.from_overrides(VARIANTS[variant])) as reference:
            return suite_process.run_suite(reference.base_url, "dce5-aksk", reference.credentials, *extra).outcomes()

    assert outcomes("-n", "4") == outcomes()
