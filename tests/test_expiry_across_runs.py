"""AUTH-EXPIRED-OWN across runs: two runs share a state directory while the reference's clock moves.

Against a real deployment a single run cannot see one that ignores exp: the runs here are not given
the reference's clock key, as no run against a real deployment is, so the first is pending and two
runs a day apart judge it. The reference's clock moves between them, the runner's does not: which
token is due is read from the deployment's Date header alone.
"""

import json
import stat
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from ghippo_conformance.checks.token_records import TokenRecords
from ghippo_conformance.deployment import profile
from ghippo_conformance.run_end import PARTIAL
from ghippo_reference.behaviour import for_profile
from ghippo_reference.server import start
from selftest import variants
from selftest.suite_process import suite_command, suite_environment
from suite_runner import ROOT, Run

pytestmark = pytest.mark.suite_run

REQUIREMENT = "AUTH-EXPIRED-OWN"
DAY_S = 86400
# The reference's clock between the runs: two days on, past the cycle=1 token's exp and any skew.
TWO_DAYS_ON = 2 * DAY_S
# A deployment whose clock is three days behind the runner's: by the runner's clock, the token the
# first run keeps (exp a day after issue, on the deployment's clock) has long expired; by the
# deployment's it has not.
THREE_DAYS_BEHIND = -3 * DAY_S
PROFILE = profile.load("dce5-aksk")
IGNORES_EXP = next(v for v in variants.load() if v.name == "accepts-expired-tokens")


def run(reference, state_dir, report_path):
    """The whole suite against `reference`, the credentials choosing the profile, as a nightly job runs it:
    without the reference's clock key, so expiry is judged across runs."""
    environment = suite_environment(
        {"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]}
    )
    del environment["GHIPPO_REFERENCE_CLOCK"]
    arguments = ["-q", "--base-url", reference.base_url, "--max-rps", "0", "--state-dir", str(state_dir)]
    completed = subprocess.run(
        suite_command(*arguments, "--conformance-report", str(report_path)),
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(report_path.read_text())
    return Run(completed.returncode, completed.stdout + completed.stderr), report, report_path.read_text()


def assert_pending(completed, report):
    """A first run against a deployment: nothing else failed, AUTH-EXPIRED-OWN waits for a later run."""
    assert completed.exit_code == PARTIAL and report["verdict"] == "partial", completed.output[-4000:]
    entry = outcome(report)
    assert entry["outcome"] == "pending" and "run again after" in entry["reason"], entry
    assert entry["checkable_after"] and entry["checkable_after"] in entry["reason"], entry
    assert [unchecked["id"] for unchecked in report["unchecked"]] == [REQUIREMENT], report["unchecked"]


def outcome(report) -> dict:
    return next(row for row in report["requirements"] if row["id"] == REQUIREMENT)


def records(state_dir) -> dict:
    """Each kept token's file and its content."""
    return {path: json.loads(path.read_text()) for path in state_dir.rglob("*.json")}


class TwoRuns(NamedTuple):
    first: tuple  # (completed run, report, report text)
    second: tuple
    kept: dict  # the records the first run left, path -> content
    modes: dict  # their file modes
    state_dir: Path


def two_runs(behaviour, tmp_path, clock_before_s, clock_between_s) -> TwoRuns:
    """Two runs sharing a state directory, the reference's clock moved before the first and between them."""
    state_dir = tmp_path / "state"
    with start(behaviour) as reference:
        reference.advance_clock(clock_before_s)
        first = run(reference, state_dir, tmp_path / "first.json")
        kept = records(state_dir)
        modes = {path: stat.S_IMODE(path.stat().st_mode) for path in kept}
        reference.advance_clock(clock_between_s)
        second = run(reference, state_dir, tmp_path / "second.json")
    return TwoRuns(first, second, kept, modes, state_dir)


def assert_tokens_never_written(kept, *runs):
    for content in kept.values():
        secret_part = content["token"].rpartition(".")[2]  # a JWT's signature is what makes it usable
        for completed, _, report_text in runs:
            assert secret_part not in completed.output and secret_part not in report_text


def test_reference_passes_and_a_token_is_checked_once_its_exp_passed_on_the_deployments_clock(tmp_path):
    first, second, kept, modes, state_dir = two_runs(for_profile(PROFILE), tmp_path, 0, TWO_DAYS_ON)
    (first_run, first_report, _), (second_run, second_report, _) = first, second
    assert first_report["profile_reason"] == "chosen by GHIPPO_AK and GHIPPO_SK"
    assert_pending(first_run, first_report)
    assert len(kept) == 1
    assert set(modes.values()) == {0o600}, "a kept token is readable by its owner only"
    assert second_run.exit_code == 0, second_run.output[-4000:]
    assert second_report["verdict"] == "pass" and outcome(second_report)["outcome"] == "passed"
    assert not set(kept) & set(records(state_dir)), "a checked record is deleted"
    assert len(records(state_dir)) == 1, "the second run keeps a token of its own"
    assert_tokens_never_written({**kept, **records(state_dir)}, first, second)


@pytest.mark.parametrize("dated", [True, False], ids=["by-its-date-header", "without-date-by-the-iat-it-stamps"])
def test_deployment_ignoring_exp_fails_only_the_expiry_check_of_the_second_run(tmp_path, dated):
    behaviour = for_profile(PROFILE, {**IGNORES_EXP.overrides, "dates_answers": dated})
    first, second, kept, _, _ = two_runs(behaviour, tmp_path, 0, TWO_DAYS_ON)
    (first_run, first_report, _), (second_run, second_report, _) = first, second
    assert_pending(first_run, first_report)
    failed = {row["id"] for row in second_report["requirements"] if row["outcome"] == "failed"}
    assert second_run.exit_code == 1 and failed == {REQUIREMENT}, second_run.output[-4000:]
    evidence = outcome(second_report)["tests"][0]["evidence"]
    assert "exp " in evidence and "the deployment's Date" in evidence and "answered 200" in evidence
    assert_tokens_never_written(kept, first, second)


@pytest.mark.parametrize(
    ("clock_before_s", "clock_between_s"),
    [
        pytest.param(THREE_DAYS_BEHIND, 0, id="deployment-clock-behind-the-runners"),
        pytest.param(0, -TWO_DAYS_ON, id="deployment-clock-moved-back"),
    ],
)
def test_runner_clock_does_not_make_a_token_due(tmp_path, clock_before_s, clock_between_s):
    """By the runner's clock the first run's token may have expired; by the deployment's it has not,
    so even a deployment that ignores exp is not presented with it, and its record is kept."""
    first, second, kept, _, state_dir = two_runs(
        for_profile(PROFILE, IGNORES_EXP.overrides), tmp_path, clock_before_s, clock_between_s
    )
    assert_pending(*second[:2])
    assert set(kept) <= set(records(state_dir)), "a record not yet checked is kept"
    assert_tokens_never_written(kept, first, second)


def test_unreadable_record_is_reported_and_removed_not_trusted(tmp_path):
    state_dir = tmp_path / "state"
    with start(for_profile(PROFILE)) as reference:
        kept = TokenRecords(state_dir, reference.base_url, lambda secret: None).add("not-a-token", "someone", 1, 0)
        kept.path.write_text('{"token": "cut short', encoding="utf-8")  # as a crash mid-write leaves it
        completed, report, _ = run(reference, state_dir, tmp_path / "report.json")
    assert_pending(completed, report)
    assert not kept.path.exists()
    notice = f"removed the token record {kept.path}: it could not be read"
    assert any(line.startswith(notice) for line in report["notices"]), report["notices"]
    assert notice in completed.output
