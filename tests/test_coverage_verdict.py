"""A verdict that states its coverage: `pass` only when every applicable MUST was judged and held.

A run that left MUSTs out (by the operator's choice, or a check that could not be made) is `partial`,
exit 17, and the console and every report list each unchecked MUST with why; --certify fails it. The
README's first command, against the embedded reference, judges every MUST, AUTH-EXPIRED-OWN too (the
reference's clock is moved for the one request that presents an expired token).
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ghippo_conformance import json_schemas
from ghippo_conformance.deployment import profile as profile_module
from ghippo_conformance.run_end import PARTIAL
from ghippo_conformance.verdict import baseline, catalogue
from ghippo_reference.behaviour import for_profile
from ghippo_reference.server import start
from selftest.suite_process import suite_environment
from suite_runner import ROOT, Run, run_suite

pytestmark = pytest.mark.suite_run

CATALOGUE = catalogue.load()
MUSTS = [r.id for r in CATALOGUE.requirements.values() if r.level == "MUST"]
EXPIRED_OWN = "AUTH-EXPIRED-OWN"
NAMED_TEST = "suites/test_token.py::test_token_lives_default_lifetime"
USAGE_ERROR = 4
NOTHING_LISTENS = "http://127.0.0.1:9"


def suite_run(directory: Path, *args: str, env: dict[str, str] | None = None):
    """The suite (against the embedded reference unless `args` name a deployment), every report written."""
    run = run_suite(
        "--conformance-report",
        str(directory / "report.json"),
        "--summary-md",
        str(directory / "summary.md"),
        "--html",
        str(directory / "report.html"),
        "--junitxml",
        str(directory / "junit.xml"),
        *args,
        env=env,
    )
    return run, json.loads((directory / "report.json").read_text())


def against(reference, directory: Path, *args: str, env: dict[str, str] | None = None):
    credentials = {"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]}
    return suite_run(
        directory, "--base-url", reference.base_url, "--max-rps", "0", *args, env={**credentials, **(env or {})}
    )


def outcomes(report) -> dict[str, str]:
    return {row["id"]: row["outcome"] for row in report["requirements"]}


def entry(report, requirement_id):
    return next(row for row in report["requirements"] if row["id"] == requirement_id)


@pytest.fixture(scope="module")
def read_only(tmp_path_factory):
    directory = tmp_path_factory.mktemp("read-only")
    return (*suite_run(directory, "--read-only"), directory)


def test_read_only_run_is_partial_and_every_report_lists_each_unchecked_must(read_only):
    run, report, directory = read_only
    tail = run.output[-4000:]
    assert run.exit_code == PARTIAL and report["verdict"] == "partial", tail
    unchecked = {row["id"]: row for row in report["unchecked"]}
    assert "KEY-CREATE" in unchecked and "KEY-REVOKE" in unchecked, unchecked
    assert all(
        row["level"] == "MUST" and row["why"].startswith("left out by --read-only") for row in unchecked.values()
    )
    # Nothing else was left unjudged: what read-only runs, it judges.
    assert {rid for rid, outcome in outcomes(report).items() if outcome not in ("passed", "not-applicable")} >= set(
        unchecked
    )
    listed = ", ".join(unchecked)
    assert report["reasons"] == [
        f"{len(unchecked)} MUST requirement(s) were not judged in full: {listed} (each is listed with why)"
    ]
    console = run.output.partition("conformance verdict")[2]
    summary = (directory / "summary.md").read_text()
    html = (directory / "report.html").read_text()
    junit = ET.parse(directory / "junit.xml").getroot().find(".//properties")
    junit_unchecked = [p.get("value") for p in junit.iter("property") if p.get("name") == "conformance_unchecked"]
    assert "verdict: partial" in console and summary.startswith("## ⚠️ Ghippo conformance: partial"), tail
    assert 'class="verdict-partial">partial<' in html and "<h3>Not judged</h3>" in html
    for requirement_id in unchecked:
        assert f"{requirement_id} (MUST)" in console, requirement_id
        assert f"| `{requirement_id}` | MUST | ⏭️ skipped | `left out by --read-only" in summary, requirement_id
        assert f"<li><code>{requirement_id}</code> (MUST, skipped): left out by --read-only" in html, requirement_id
        assert any(value.startswith(f"{requirement_id} (MUST, skipped): left out by") for value in junit_unchecked)


def test_one_test_named_by_node_id_is_partial(tmp_path):
    # `pytest <node id>` as an operator types it: the node id instead of the suites folder.
    report_path = tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        NAMED_TEST,
        "--conformance-report",
        str(report_path),
    ]
    completed = subprocess.run(command, cwd=ROOT, env=suite_environment(), capture_output=True, text=True, timeout=300)
    run, report = Run(completed.returncode, completed.stdout + completed.stderr), json.loads(report_path.read_text())
    assert run.exit_code == PARTIAL and report["verdict"] == "partial", run.output[-4000:]
    assert outcomes(report)["TOKEN-DEFAULT-EXPIRY"] == "passed"
    assert {row["id"] for row in report["unchecked"]} == set(MUSTS) - {"TOKEN-DEFAULT-EXPIRY"}
    named = f"the command line named only some of the suite's tests ({NAMED_TEST})"
    assert report["reasons"][0].startswith(named) and all(row["why"] == named for row in report["unchecked"])


def test_keyword_selection_is_partial_and_a_certification_run_fails_it(tmp_path):
    run, report = suite_run(tmp_path, "-k", "test_token")
    assert run.exit_code == PARTIAL and report["verdict"] == "partial", run.output[-4000:]
    assert entry(report, "KEY-CREATE")["reason"] == "deselected by -k test_token"
    certified, certified_report = suite_run(tmp_path, "-k", "test_token", "--certify")
    assert certified.exit_code == 1 and certified_report["verdict"] == "fail", certified.output[-4000:]
    assert (
        "MUST KEY-CREATE was skipped, and a certification run (--certify) admits no exceptions"
        in (certified_report["reasons"])
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "parallel"])
def test_readmes_first_command_judges_every_must_and_passes(tmp_path, workers):
    run, report = suite_run(tmp_path, *workers)
    assert run.exit_code == 0 and report["verdict"] == "pass", run.output[-4000:]
    assert report["unchecked"] == [] and report["counts"]["skipped"] == 0, report["unchecked"]
    assert all(outcomes(report)[rid] in ("passed", "not-applicable") for rid in MUSTS), outcomes(report)
    assert outcomes(report)[EXPIRED_OWN] == "passed"


@pytest.mark.parametrize(
    ("overrides", "outcome", "exit_code"),
    [
        pytest.param({"accept_expired": True}, "failed", 1, id="accepts-expired-tokens"),
        pytest.param({"exp_leeway_s": 3600}, "failed", 1, id="exp-leeway-an-hour"),
        pytest.param({"exp_leeway_s": 60}, "passed", PARTIAL, id="exp-leeway-within-clock-skew"),
    ],
)
def test_own_expired_token_is_judged_in_one_run_by_moving_the_references_clock(tmp_path, overrides, outcome, exit_code):
    # The reference is started here, so the suite run is handed its clock key (suite_environment);
    # --requirement keeps the run to the one check, hence partial when it passes.
    with start(for_profile(profile_module.load("dce5-aksk"), overrides)) as reference:
        run, report = against(reference, tmp_path, "--requirement", EXPIRED_OWN)
    expired_own = entry(report, EXPIRED_OWN)
    assert run.exit_code == exit_code and expired_own["outcome"] == outcome, run.output[-4000:]
    if outcome == "failed":
        evidence = expired_own["tests"][0]["evidence"]
        assert "presented with the deployment's clock moved to" in evidence and "answered 200" in evidence, evidence


def test_a_clock_key_the_deployment_does_not_know_judges_nothing(tmp_path):
    # A deployment that does not move its clock for the key (not a reference, or another one's key) must
    # never be failed by it, even one that accepts expired tokens: its Date shows the clock did not move.
    with start(for_profile(profile_module.load("dce5-aksk"), {"accept_expired": True})) as reference:
        run, report = against(
            reference, tmp_path, "--requirement", EXPIRED_OWN, env={"GHIPPO_REFERENCE_CLOCK": "not-this-references"}
        )
    expired_own = entry(report, EXPIRED_OWN)
    assert run.exit_code == PARTIAL and expired_own["outcome"] == "skipped", run.output[-4000:]
    assert "did not move its clock" in expired_own["reason"], expired_own


def test_every_requirement_named_is_a_whole_run_and_an_unknown_one_a_usage_error(tmp_path):
    run, report = suite_run(tmp_path, "--requirement", ",".join(CATALOGUE.requirements))
    assert run.exit_code == 0 and report["verdict"] == "pass", run.output[-4000:]
    unknown = run_suite("--requirement", "TOKEN-ISSUE,NO-SUCH-REQUIREMENT")
    lines = [line for line in unknown.output.splitlines() if line.strip()]
    assert unknown.exit_code == USAGE_ERROR and len(lines) == 1, unknown.output
    assert "--requirement NO-SUCH-REQUIREMENT: no such requirement" in lines[0]


def test_list_requirements_prints_the_catalogue_and_contacts_nothing():
    # A deployment nobody listens at: any contact would stop the run with "cannot reach".
    listed = run_suite("--list-requirements", "--base-url", NOTHING_LISTENS, env={"GHIPPO_ACCESS_KEY": "k" * 40})
    assert listed.exit_code == 0, listed.output
    for requirement in CATALOGUE.requirements.values():
        line = f"{requirement.id}  {requirement.level}  {requirement.area}"
        assert line in listed.output and requirement.statement in listed.output, requirement.id
        assert f"source: {requirement.source}" in listed.output
    assert "cannot reach" not in listed.output and "test session starts" not in listed.output


def test_a_report_of_an_earlier_suite_version_is_still_a_baseline(read_only, tmp_path):
    _, report, _ = read_only
    assert json_schemas.errors(report, "conformance-report") == []
    earlier = json.loads(json.dumps(report))
    del earlier["unchecked"]
    for name in ("error", "pending"):
        del earlier["counts"][name]
    earlier["verdict"] = "pass"
    for row in earlier["requirements"]:
        del row["checkable_after"]
        for test in row["tests"]:
            del test["checkable_after"]
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(earlier))
    assert baseline.load(str(path)).outcomes == outcomes(report)
