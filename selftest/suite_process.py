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

from ghippo_conformance.checks import paths
from ghippo_reference.clock_control import clock_key

_OUTPUT_TAIL = 3000  # characters of pytest's output kept for a reader of a surprising run


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
    return [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", *args]


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
        completed = subprocess.run(
            suite_command(
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
            ),
            cwd=paths.ROOT,
            env=suite_environment(secrets),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        report = json.loads(report_path.read_text()) if report_path.is_file() else None
    output = completed.stdout + completed.stderr
    return SuiteRun(completed.returncode, report, output[-_OUTPUT_TAIL:])
