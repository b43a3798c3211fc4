"""Running the conformance suite as an operator would: a subprocess, from the project root."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    exit_code: int
    output: str  # stdout and stderr together


def run_suite(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """`python -m pytest suites …` from the project root, with no GHIPPO_* settings inherited."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GHIPPO_")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", *args],
        cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=timeout,
    )
    return Run(completed.returncode, completed.stdout + completed.stderr)
