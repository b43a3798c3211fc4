"""What the operator chose to leave out of a run, and why, in the words the reports list it with.

A test the options leave out (--read-only, --requirement, -k, -m, --deselect, --last-failed …) is
recorded as skipped with why; a run whose command line named only some of the suite's files or tests
collected the others not at all. Either way the requirements they check are not judged in full, and
the verdict is `partial`, never `pass` (verdict/gate.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from ghippo_conformance import paths
from ghippo_conformance.verdict.catalogue import Catalogue

READ_ONLY = "left out by --read-only: its tests create, change or delete keys"

# pytest's options that deselect collected tests, by their dest, with the flag an operator typed.
_DESELECTING = (("keyword", "-k"), ("markexpr", "-m"), ("deselect", "--deselect"), ("lf", "--last-failed"))


class UnknownRequirement(Exception):
    """--requirement names an ID the catalogue does not have; one sentence."""


def check_requirement_ids(requirement_ids: tuple[str, ...], catalogue: Catalogue, *, given: Sequence[str]) -> None:
    """Raises UnknownRequirement for --requirement values that name no catalogue requirement."""
    if given and not requirement_ids:
        raise UnknownRequirement("--requirement names no requirement: give IDs, e.g. --requirement AUTH-MISSING")
    unknown = [rid for rid in requirement_ids if rid not in catalogue]
    if unknown:
        raise UnknownRequirement(
            f"--requirement {', '.join(unknown)}: no such requirement in suites/requirements.toml "
            "(--list-requirements prints the catalogue)"
        )


def not_selected(requirement_ids: tuple[str, ...]) -> str:
    return f"left out by --requirement {','.join(requirement_ids)}"


def deselected_by(config: pytest.Config) -> str:
    """Why pytest's own options deselected a test: the options given, as typed."""
    given = []
    for dest, flag in _DESELECTING:
        value = config.getoption(dest, None)
        if value:
            given.append(flag if value is True else f"{flag} {' '.join(value) if isinstance(value, list) else value}")
    return f"deselected by {', '.join(given)}" if given else "deselected by the command line"


def named_only_some(args: Sequence[str], invocation_dir: Path) -> str | None:
    """Why some of the suite's test files or tests were not even collected, or None when every one was:
    the command line named files or node ids (suites/test_token.py::test_x) instead of the suites."""
    suite_files = set(paths.SUITES.resolve().glob("test_*.py"))
    covered: set[Path] = set()
    for arg in args:
        where, node, _ = arg.partition("::")
        if node:
            continue  # a node id collects part of a file, at most
        path = (invocation_dir / where).resolve()
        covered |= {file for file in suite_files if file == path or file.is_relative_to(path)}
    if not suite_files - covered:
        return None
    return f"the command line named only some of the suite's tests ({' '.join(args)})"
