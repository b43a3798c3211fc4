"""Run the conformance suite in a subprocess against a deployment and read its JSON report."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghippo_conformance import paths
from ghippo_reference.clock_control import clock_key
from selftest import forkserver

_OUTPUT_TAIL = 3000
# Set to 1 in the environment, self-test runs start processes of their own instead of forks of the fork server.
_OWN_PROCESS = "GHIPPO_SELFTEST_SUBPROCESS"  # characters of pytest's output kept for a reader of a surprising run


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    report: dict[str, Any] | None  # None when the run stopped before writing one
    output_tail: str

    def outcomes(self) -> dict[str, str]:
        """Each requirement's outcome by ID (empty without a report)."""
        return {row["id"]: row["outcome"] for row in (self.report or {}).get("requirements", [])}

    def levels(self) -> dict[str, str]:
        return {row["id"]: row["level"] for row in (self.report or {}).get("requirements", [])}


def suite_command(*args: str) -> list[str]:
    """`python -m pytest suites …`, to be run from the project root (cwd=paths.ROOT)."""
    return [sys.executable, "-m", "pytest", *_suite_args(args)]


def _suite_args(args: tuple[str, ...]) -> list[str]:
    return ["suites", "-p", "no:cacheprovider", *args]


def run_pytest(*args: str, env: dict[str, str], timeout_s: float) -> forkserver.Completed:
    """`suite_command(*args)` from the project root with `env`, run to its end: forked from the fork server
    (selftest/forkserver.py), or, with GHIPPO_SELFTEST_SUBPROCESS=1, a process started as an operator starts it."""
    # A fork keeps the server's import path: a run given another PYTHONPATH (a plugin of a test's own) needs
    # a process that starts with it.
    if os.environ.get(_OWN_PROCESS) == "1" or env.get("PYTHONPATH") != os.environ.get("PYTHONPATH"):
        completed = subprocess.run(
            suite_command(*args), cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=timeout_s
        )
        return forkserver.Completed(completed.returncode, completed.stdout + completed.stderr)
    return forkserver.run(_suite_args(args), env=env, cwd=paths.ROOT, timeout=timeout_s)


@functools.cache
def _scratch_state_dir() -> str:
    """Where self-test runs keep tokens for AUTH-EXPIRED-OWN: never the user's cache, and gone with the
    process. Nothing in it comes due within one session unless a test moves a reference's clock, and
    that test passes a directory of its own."""
    directory = tempfile.mkdtemp(prefix="ghippo-selftest-state-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def suite_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its GHIPPO_* settings, plus a scratch state directory and the clock
    key of the references this process starts (so that a run against one judges AUTH-EXPIRED-OWN at once,
    as against the embedded reference), plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("GHIPPO_")}
    return {**kept, "GHIPPO_STATE_DIR": _scratch_state_dir(), "GHIPPO_REFERENCE_CLOCK": clock_key(), **(extra or {})}


def run_suite(
    base_url: str, profile: str, credentials: dict[str, str], *extra_args: str, timeout_s: float = 600
) -> SuiteRun:
    """`pytest suites` from the project root against `base_url`, as an operator runs it.

    Credentials travel in GHIPPO_* variables (`{"ak": …}` becomes GHIPPO_AK), not on the command
    line; no GHIPPO_* setting of the caller's environment leaks in. No rate limit: the deployment
    is the caller's own."""
    secrets = {f"GHIPPO_{name.upper()}": value for name, value in credentials.items()}
    with tempfile.TemporaryDirectory(prefix="ghippo-suite-") as scratch:
        report_path = Path(scratch) / "report.json"
        completed = run_pytest(
            "-q",
            "--base-url",
            base_url,
            "--profile",
            profile,
            "--max-rps",
            "0",
            "--conformance-report",
            str(report_path),
            *extra_args,
            env=suite_environment(secrets),
            timeout_s=timeout_s,
        )
        report = json.loads(report_path.read_text()) if report_path.is_file() else None
    return SuiteRun(completed.returncode, report, completed.output[-_OUTPUT_TAIL:])
