"""Running the conformance suite as an operator would: a subprocess, from the project root."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from ghippo_conformance.checks.paths import ROOT
from selftest.suite_process import suite_command, suite_environment


@dataclass(frozen=True)
class Run:
    exit_code: int
    output: str  # stdout and stderr together


def run_suite(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """`python -m pytest suites …` from the project root, with no GHIPPO_* settings inherited."""
    completed = subprocess.run(
        suite_command(*args), cwd=ROOT, env=suite_environment(env), capture_output=True, text=True, timeout=timeout
    )
    return Run(completed.returncode, completed.stdout + completed.stderr)
