"""`ghippo-conformance` (python -m ghippo_conformance) runs the suite from any directory."""

import os
import subprocess
import sys

from ghippo_conformance import __version__
from ghippo_conformance.run_end import PARTIAL
from ghippo_conformance.verdict import catalogue
from suite_runner import ROOT


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


def test_list_requirements_prints_the_catalogue_from_any_directory(tmp_path):
    shown = entry_point("--list-requirements", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    headings = [line for line in shown.stdout.splitlines() if line and not line.startswith((" ", "requirement "))]
    listed = [line.split()[0] for line in headings]
    assert listed == list(catalogue.load().requirements)
