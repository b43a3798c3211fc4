"""With no profile named, the credentials choose it: an access key selects dce5, an AK/SK pair dce5-aksk.

Both kinds, or none against a deployment, stop the run with one sentence (a usage error); the console
header and the conformance report say which profile ran and why.
"""

import json
import shlex
import subprocess
import sys

import pytest

from suite_runner import ROOT, run_suite

pytestmark = pytest.mark.suite_run

USAGE_ERROR = 4
INCOMPLETE = 15  # --collect-only runs no test
NOTHING_LISTENS = "http://127.0.0.1:9"  # a usage error or --collect-only sends nothing


@pytest.fixture
def standalone_access_key_reference():
    """`python -m ghippo_reference --flow access-key`, as an operator starts it: its base URL and access key,
    read from the pytest command it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ghippo_reference", "--flow", "access-key"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = iter(process.stdout.readline, "")
        command = next(line for line in lines if line.strip().startswith("pytest --base-url"))
        words = shlex.split(command)
        yield words[words.index("--base-url") + 1], words[words.index("--access-key") + 1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_access_key_alone_selects_the_access_key_profile_and_passes(standalone_access_key_reference, tmp_path):
    base_url, access_key = standalone_access_key_reference
    report_path = tmp_path / "report.json"
    run = run_suite(
        "--max-rps",
        "0",
        "--no-state",
        "--conformance-report",
        str(report_path),
        env={"GHIPPO_BASE_URL": base_url, "GHIPPO_ACCESS_KEY": access_key},
    )
    assert run.exit_code == 0, run.output[-4000:]
    assert "profile dce5 (chosen by GHIPPO_ACCESS_KEY; access-key flow)" in run.output
    report = json.loads(report_path.read_text())
    assert report["verdict"] == "pass"
    assert (report["profile"]["name"], report["profile_reason"]) == ("dce5", "chosen by GHIPPO_ACCESS_KEY")
    assert access_key not in run.output and access_key not in report_path.read_text()


@pytest.mark.parametrize(
    ("env", "header"),
    [
        pytest.param(
            {"GHIPPO_BASE_URL": NOTHING_LISTENS, "GHIPPO_ACCESS_KEY": "k" * 40},
            "profile dce5 (chosen by GHIPPO_ACCESS_KEY;",
            id="access-key",
        ),
        pytest.param(
            {"GHIPPO_BASE_URL": NOTHING_LISTENS, "GHIPPO_AK": "a" * 36, "GHIPPO_SK": "s" * 36},
            "profile dce5-aksk (chosen by GHIPPO_AK and GHIPPO_SK;",
            id="key-pair",
        ),
        pytest.param(
            {"GHIPPO_BASE_URL": NOTHING_LISTENS, "GHIPPO_PROFILE": "d.run", "GHIPPO_ACCESS_KEY": "k" * 40},
            "profile d.run (named by GHIPPO_PROFILE;",
            id="named-profile-wins",
        ),
        pytest.param(
            {},
            "profile dce5-aksk (the default: the embedded reference provisions its own credentials;",
            id="embedded-reference-without-credentials",
        ),
    ],
)
def test_header_says_which_profile_and_why(env, header):
    run = run_suite("--collect-only", env=env)  # collecting sends nothing: nothing need listen
    assert run.exit_code == INCOMPLETE, run.output
    assert header in run.output, run.output


@pytest.mark.parametrize(
    ("args", "env", "cause"),
    [
        pytest.param(
            ["--base-url", NOTHING_LISTENS],
            {"GHIPPO_ACCESS_KEY": "k" * 40, "GHIPPO_AK": "a" * 36, "GHIPPO_SK": "s" * 36},
            "both an access key (GHIPPO_ACCESS_KEY) and an AK/SK pair (GHIPPO_AK and GHIPPO_SK) are given",
            id="both-kinds",
        ),
        pytest.param(
            ["--base-url", NOTHING_LISTENS, "--access-key", "k" * 40],
            {"GHIPPO_AK": "a" * 36, "GHIPPO_SK": "s" * 36},
            "both an access key (--access-key) and an AK/SK pair (GHIPPO_AK and GHIPPO_SK) are given",
            id="both-kinds-option-and-environment",
        ),
        pytest.param(["--base-url", NOTHING_LISTENS], {}, f"no credentials for {NOTHING_LISTENS}", id="none"),
    ],
)
def test_ambiguous_or_missing_credentials_stop_with_one_sentence(args, env, cause):
    run = run_suite(*args, env=env)
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert run.exit_code == USAGE_ERROR, run.output
    assert len(lines) == 1 and cause in lines[0], run.output
    assert "k" * 40 not in run.output
