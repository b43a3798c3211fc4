"""`python -m ghippo_reference` in one process and `pytest --base-url …` in another give the embedded run's result."""

import json
import shlex
import subprocess
import sys

import pytest

from suite_runner import ROOT, run_suite

pytestmark = pytest.mark.suite_run


@pytest.fixture(scope="module")
def standalone_command():
    """The pytest command line the standalone reference prints for its user."""
    server = subprocess.Popen(
        [sys.executable, "-m", "ghippo_reference", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        command = next(line for line in server.stdout if line.strip().startswith("pytest "))
        yield shlex.split(command)[1:]
    finally:
        server.terminate()
        server.wait(timeout=10)


def outcomes(tmp_path, name, *args):
    report = tmp_path / f"{name}.json"
    run = run_suite("--max-rps", "0", "--conformance-report", str(report), *args)
    assert run.exit_code == 0, run.output
    return {r["id"]: r["outcome"] for r in json.loads(report.read_text())["requirements"]}


def test_standalone_and_embedded_agree(tmp_path, standalone_command):
    assert "--base-url" in standalone_command
    embedded = outcomes(tmp_path, "embedded")
    assert embedded == outcomes(tmp_path, "standalone", *standalone_command)
    # Every requirement judged: AUTH-EXPIRED-OWN too, the reference's clock moved by the key it printed.
    unfinished = {rid: outcome for rid, outcome in embedded.items() if outcome not in {"passed", "not-applicable"}}
    assert unfinished == {}, unfinished
