"""Installed from its wheel, the package runs without the repository: `ghippo-conformance` from an
empty working directory, against the embedded reference, with nothing taken from the checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghippo_conformance.paths import ROOT
from selftest.suite_process import SuiteRun, suite_environment

# One worker builds the wheel once and runs the suite once for every test here.
pytestmark = [pytest.mark.suite_run, pytest.mark.xdist_group("installed")]

_OUTPUT_TAIL = 3000
# What a checkout holds besides its source: a build must see none of it.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".tox", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache"
)


@dataclass(frozen=True)
class InstalledRun:
    target: Path  # the folder the wheel was installed into
    working_directory: Path
    environment: dict[str, str]
    suite: SuiteRun


def _tail(completed: subprocess.CompletedProcess[str]) -> str:
    return (completed.stdout + completed.stderr)[-_OUTPUT_TAIL:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built as a wheel and installed into a folder of its own, as `pip install .`
    does, but offline: the running venv's setuptools builds it (--check-build-dependencies says so
    plainly when it is older than pyproject.toml asks) and already holds the dependencies. The
    build runs on a copy, so no build/ or egg-info lands in the checkout."""
    scratch = tmp_path_factory.mktemp("installed")
    source, target = scratch / "source", scratch / "target"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--check-build-dependencies",
            "--target",
            str(target),
            str(source),
        ],
        env=suite_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, _tail(completed)
    return target


@pytest.fixture(scope="module")
def installed_run(installed, tmp_path_factory) -> InstalledRun:
    """The console script pip wrote (its #! line is this interpreter), run as an operator runs it
    from a container or CI image: from an empty folder, no --base-url, the install on PYTHONPATH
    and the venv for the dependencies, no GHIPPO_* settings."""
    working_directory = tmp_path_factory.mktemp("working-directory")
    report_path = working_directory / "report.json"
    environment = suite_environment({"PYTHONPATH": str(installed)})
    completed = subprocess.run(
        [
            str(installed / "bin" / "ghippo-conformance"),
            "-q",
            "--max-rps",
            "0",
            "--conformance-report",
            str(report_path),
        ],
        cwd=working_directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(report_path.read_text()) if report_path.is_file() else None
    suite = SuiteRun(completed.returncode, report, _tail(completed))
    return InstalledRun(installed, working_directory, environment, suite)


def test_the_installed_console_script_passes_against_the_embedded_reference(installed_run):
    suite = installed_run.suite
    assert suite.exit_code == 0, suite.output_tail
    outcomes = suite.outcomes()
    assert outcomes, f"the report lists no requirement\n{suite.output_tail}"
    unmet = {
        requirement: outcome for requirement, outcome in outcomes.items() if outcome not in ("passed", "not-applicable")
    }
    # Every requirement judged: AUTH-EXPIRED-OWN too, the embedded reference's clock moved for it.
    assert unmet == {}, f"{unmet}\n{suite.output_tail}"


def test_the_installed_run_imports_the_package_and_the_reference_from_the_install(installed_run, tmp_path):
    """With the run's interpreter and environment, from an empty folder as the run's was (its own,
    so the probe leaves nothing in the run's): the package, its data and the reference all resolve
    inside the install, so no checkout stood in for them."""
    probe = (
        "import ghippo_conformance, ghippo_reference; from ghippo_conformance import paths; "
        "print(ghippo_conformance.__file__, ghippo_reference.__file__, paths.ROOT, sep='\\n')"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=installed_run.environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, _tail(completed)
    resolved = [Path(line) for line in completed.stdout.splitlines()]
    assert len(resolved) == 3, completed.stdout
    outside = [path for path in resolved if not path.resolve().is_relative_to(installed_run.target.resolve())]
    assert not outside, f"resolved outside the install {installed_run.target}: {outside}"


def test_the_installed_run_leaves_nothing_but_its_report_in_the_working_directory(installed_run):
    """Operators run it from their own folders and CI workspaces: no cache may litter them."""
    left = sorted(path.name for path in installed_run.working_directory.iterdir())
    assert left == ["report.json"], f"{left}\n{installed_run.suite.output_tail}"


def test_the_installed_package_gives_pytest_the_suites_options_before_it_reads_a_command_line(installed):
    """Its options (and only they) are a pytest11 entry point, named as the module so pytest loads it once."""
    (entry_points,) = installed.glob("ghippo_conformance-*.dist-info/entry_points.txt")
    assert "[pytest11]\nghippo_conformance.options = ghippo_conformance.options" in entry_points.read_text()
