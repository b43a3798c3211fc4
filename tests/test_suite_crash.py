"""A crash of the suite's own code is never a verdict on the deployment: the requirement it checks is not
judged (error), the run is incomplete (exit 18) unless a MUST genuinely failed, and the console and every
report say it was the suite, with the traceback. The crash is made by a plugin (tests/crashing_check.py)
in a suite run against the embedded reference, serial and under xdist."""

import ast
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from crashing_check import CRASHING

from ghippo_conformance import paths
from ghippo_conformance.run_end import SUITE_CRASHED
from ghippo_reference.server import start
from suite_runner import ROOT, run_suite

CRASHED_TEST = "suites/test_bearer.py::test_documentation_sample_token_is_refused"  # one case per protected path
CASES = 2
CRASH = "AttributeError: 'NoneType' object has no attribute 'status'"
# A reference started here issues 3-day tokens: a profile expecting 1 s makes TOKEN-DEFAULT-EXPIRY genuinely
# fail (the embedded reference would issue what the profile expects).
GENUINE_FAILURE = ("--profile-set", "token.default_lifetime_s=1")


def crashing_run(directory: Path, *args: str, env: dict[str, str] | None = None):
    """The whole suite with one check crashing; the run and its JSON report."""
    run = run_suite(
        "-p",
        "crashing_check",
        "--conformance-report",
        str(directory / "report.json"),
        "--summary-md",
        str(directory / "summary.md"),
        "--junitxml",
        str(directory / "junit.xml"),
        *args,
        env={"PYTHONPATH": str(ROOT / "tests"), **(env or {})},
    )
    return run, json.loads((directory / "report.json").read_text())


def entry(report, requirement_id):
    return next(row for row in report["requirements"] if row["id"] == requirement_id)


@pytest.mark.suite_run
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "parallel"])
def test_crash_of_a_check_is_the_suites_in_every_report(tmp_path, workers):
    run, report = crashing_run(tmp_path, *workers)
    tail = run.output[-4000:]
    assert run.exit_code == SUITE_CRASHED and report["verdict"] == "incomplete", tail
    crashed = entry(report, CRASHING)
    assert crashed["outcome"] == "error" and CRASH in crashed["reason"], crashed
    tests = [test for test in crashed["tests"] if test["nodeid"].startswith(f"{CRASHED_TEST}[")]
    assert len(tests) == CASES, crashed["tests"]
    for test in tests:
        assert test["outcome"] == "error" and "raise AttributeError" in test["evidence"], test  # the traceback
    assert report["counts"]["failed"] == 0 and report["counts"]["error"] == 1, report["counts"]
    [reason] = report["reasons"]
    assert reason.startswith(f"the suite crashed in {CASES} test phase(s), first {CRASHED_TEST}["), reason
    assert f"]: {CRASH}: a bug of the suite" in reason
    assert "not a verdict on the deployment; please report it" in reason
    assert [(u["id"], u["outcome"]) for u in report["unchecked"]] == [(CRASHING, "error")]
    # The console: pytest's own report of the test, then the verdict block.
    assert "crash of the suite" in run.output and "not a verdict on the deployment" in run.output, tail
    verdict_block = run.output.partition("conformance verdict")[2]
    assert "verdict: incomplete" in verdict_block and "1 error" in verdict_block, tail
    assert f"not judged: {CRASHING} (MUST): the suite crashed, judging nothing: {CRASH}" in verdict_block, tail
    summary = (tmp_path / "summary.md").read_text()
    assert f"| `{CRASHING}` | MUST | 💥 error |" in summary, summary
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    cases = [
        c for c in junit.iter("testcase") if c.get("name").startswith("test_documentation_sample_token_is_refused")
    ]
    assert [{p.get("name"): p.get("value") for p in c.iter("property")}["failure_of"] for c in cases] == [
        "suite"
    ] * CASES
    properties = [(p.get("name"), p.get("value")) for p in junit.find(".//properties").iter("property")]
    assert ("conformance_verdict", "incomplete") in properties
    assert any(
        name == "conformance_unchecked" and value.startswith(f"{CRASHING} (MUST, error)") for name, value in properties
    )


@pytest.mark.suite_run
def test_a_genuine_failure_still_fails_the_run_beside_a_crash(tmp_path):
    with start() as reference:
        credentials = {"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]}
        run, report = crashing_run(
            tmp_path, "--base-url", reference.base_url, "--max-rps", "0", *GENUINE_FAILURE, env=credentials
        )
    assert run.exit_code == 1 and report["verdict"] == "fail", run.output[-4000:]
    assert entry(report, "TOKEN-DEFAULT-EXPIRY")["outcome"] == "failed"
    assert entry(report, CRASHING)["outcome"] == "error"
    assert report["reasons"][0].startswith("MUST TOKEN-DEFAULT-EXPIRY failed")
    assert any(reason.startswith(f"the suite crashed in {CASES} test phase(s)") for reason in report["reasons"])


def test_the_suite_asserts_only_through_expect():
    """failures.py counts every AssertionError as a check's judgement: no bare assert may judge instead."""
    sources = [*paths.SUITES.glob("*.py"), *(paths.ROOT / "ghippo_conformance").rglob("*.py")]
    bare = [
        f"{source.relative_to(paths.ROOT)}:{node.lineno}"
        for source in sources
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert bare == []
