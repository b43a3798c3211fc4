"""`ghippo-conformance` (python -m ghippo_conformance) runs the suite from any directory."""

import os
import subprocess
import sys

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
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "verdict: pass" in completed.stdout
    assert not (tmp_path / ".pytest_cache").exists()
