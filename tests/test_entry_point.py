"""`ghippo-conformance` (python -m ghippo_conformance) runs the suite from any directory; `pytest` takes
the suite's options that name a path as --help shows them, or says how to run the suite."""

import os
import subprocess
import sys

import pytest

from ghippo_conformance import __version__, paths
from ghippo_conformance.run_end import PARTIAL
from ghippo_conformance.verdict import catalogue
from selftest.suite_process import suite_environment
from suite_runner import ROOT

pytestmark = pytest.mark.suite_run

USAGE_ERROR = 4


def test_entry_point_ignores_the_working_directorys_pytest_config(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --option-the-suite-does-not-have\n")
    completed = subprocess.run(
        [sys.executable, "-m", "ghippo_conformance", "-q", "-k", "test_errors"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # -k runs a part of the suite: partial, and the run went to its end.
    assert completed.returncode == PARTIAL, completed.stdout + completed.stderr
    assert "verdict: partial" in completed.stdout
    assert not (tmp_path / ".pytest_cache").exists()


def entry_point(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ghippo_conformance", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_starts_with_the_suites_usage_and_options_then_points_at_pytests(tmp_path):
    shown = entry_point("--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: ghippo-conformance [options] [pytest options]")
    for option in (
        "--base-url",
        "--profile",
        "--access-key",
        "--state-dir",
        "--no-state",
        "--certify",
        "--requirement",
        "--list-requirements",
    ):
        assert option in shown.stdout
    assert "-k EXPRESSION" not in shown.stdout, "pytest's own option list is one command away, not mixed in"
    assert "ghippo-conformance --help-pytest lists them" in " ".join(shown.stdout.split())


def test_help_pytest_shows_pytests_own_options(tmp_path):
    shown = entry_point("--help-pytest", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "-k EXPRESSION" in shown.stdout and "--state-dir" in shown.stdout


def test_version_names_the_suite_and_the_catalogue(tmp_path):
    shown = entry_point("--version", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == (
        f"ghippo-conformance {__version__}, requirement catalogue {catalogue.load().version}"
    )


# The options that take a path, written as --help shows them (a space) and joined with '='. pytest
# reads a command line once before it knows the suite's options, and used to take such a path for a
# test location and its configuration from there.
PATH_FORMS = [pytest.param(False, id="space"), pytest.param(True, id="equals")]
ONE_CHEAP_TEST = ("-k", "test_errors")


def with_path(option: str, path, joined: bool) -> list[str]:
    return [f"{option}={path}"] if joined else [option, str(path)]


def pytest_command(*args: str, cwd, program: str | None = None) -> subprocess.CompletedProcess:
    """`python -m pytest ARGS` (no test location) from `cwd`, as an operator types it; with `program`,
    that Python program instead, given ARGS."""
    command = [sys.executable, "-c", program, *args] if program else [sys.executable, "-m", "pytest", *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=suite_environment({"PYTHONPATH": str(ROOT)}),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("joined", PATH_FORMS)
def test_state_dir_outside_the_checkout_runs_from_the_checkout(tmp_path, joined):
    run = pytest_command(
        "-p", "no:cacheprovider", *with_path("--state-dir", tmp_path, joined), *ONE_CHEAP_TEST, cwd=ROOT
    )
    output = run.stdout + run.stderr
    assert run.returncode == PARTIAL, output  # one test selected: every other requirement is not judged
    assert f"rootdir: {ROOT}" in output and "configfile: pyproject.toml" in output, output
    assert "verdict: partial" in output and " passed" in output, output


@pytest.mark.parametrize("joined", PATH_FORMS)
def test_summary_md_to_an_existing_file_runs_and_rewrites_it(tmp_path, joined):
    summary = tmp_path / "summary.md"
    summary.write_text("an earlier run's summary\n")
    run = pytest_command(
        "-p", "no:cacheprovider", *with_path("--summary-md", summary, joined), *ONE_CHEAP_TEST, cwd=ROOT
    )
    assert run.returncode == PARTIAL, run.stdout + run.stderr
    assert summary.read_text().startswith("## "), summary.read_text()


def test_pytest_started_by_a_program_says_how_to_write_the_option(tmp_path):
    """pytest.main from a program cannot be run again with the option joined: a usage error says how."""
    program = "import sys, pytest; sys.exit(pytest.main(sys.argv[1:] + ['-p', 'no:cacheprovider']))"
    run = pytest_command("--state-dir", str(tmp_path), *ONE_CHEAP_TEST, cwd=ROOT, program=program)
    assert run.returncode == USAGE_ERROR, run.stdout + run.stderr
    assert f"--state-dir={tmp_path}" in run.stderr, run.stderr


def test_suite_options_where_pytest_does_not_load_the_suite_stop_with_the_fix(tmp_path):
    run = pytest_command("-p", "no:cacheprovider", "--state-dir", str(tmp_path), cwd=tmp_path)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == USAGE_ERROR, lines
    assert len(lines) == 1 and f"pytest {paths.SUITES}" in lines[0] and "ghippo-conformance" in lines[0], lines


def test_naming_the_suites_folder_runs_from_anywhere(tmp_path):
    run = pytest_command(
        str(paths.SUITES), "-p", "no:cacheprovider", "--state-dir", str(tmp_path), *ONE_CHEAP_TEST, cwd=tmp_path
    )
    assert run.returncode == PARTIAL and "verdict: partial" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("joined", PATH_FORMS)
def test_entry_point_takes_a_path_option_either_way(tmp_path, joined):
    summary = tmp_path / "summary.md"
    summary.touch()
    shown = entry_point(*with_path("--summary-md", summary, joined), "-q", *ONE_CHEAP_TEST, cwd=tmp_path)
    assert shown.returncode == PARTIAL, shown.stdout + shown.stderr
    assert summary.read_text().startswith("## ")


def test_list_requirements_prints_the_catalogue_from_any_directory(tmp_path):
    shown = entry_point("--list-requirements", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    headings = [line for line in shown.stdout.splitlines() if line and not line.startswith((" ", "requirement "))]
    listed = [line.split()[0] for line in headings]
    assert listed == list(catalogue.load().requirements)
