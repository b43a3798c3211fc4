"""Running the conformance suite as an operator would: a process of its own, from the project root (a fork
of selftest's fork server, which has its imports done)."""

from __future__ import annotations

from dataclasses import dataclass

from ghippo_conformance.paths import ROOT
from selftest.suite_process import run_pytest, suite_environment

__all__ = ["ROOT", "Run", "run_suite"]  # ROOT: where the self-tests run the suite from


@dataclass(frozen=True)
class Run:
    exit_code: int
    output: str  # stdout and stderr together


def run_suite(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """`python -m pytest suites …` from the project root, with no GHIPPO_* settings inherited."""
    completed = run_pytest(*args, env=suite_environment(env), timeout_s=timeout)
    return Run(completed.returncode, completed.output)
