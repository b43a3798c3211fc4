"""Case tables (fixtures/cases/*.toml) as pytest parameters: cases are data, not code."""

from __future__ import annotations

import tomllib
from functools import lru_cache

import pytest

from ghippo_conformance.checks import paths, schemas


@lru_cache(maxsize=None)
def load(table: str) -> tuple[dict, ...]:
    """The rows of a case table, validated against schemas/case-table.json."""
    data = tomllib.loads((paths.CASES / f"{table}.toml").read_text(encoding="utf-8"))
    problems = schemas.errors(data, "case-table")
    if problems:
        raise ValueError(f"fixtures/cases/{table}.toml: {problems[0]}")
    return tuple(data["case"])


def params(table: str) -> list:
    """One pytest.param per row, with the row's id; a row's `requirement` overrides the test's,
    and a row marked `key_slots` is marked so on its own, not its whole test."""
    return [pytest.param(row, id=row["id"], marks=_marks(row)) for row in load(table)]


def _marks(row: dict) -> list:
    marks = [pytest.mark.requirement(row["requirement"])] if "requirement" in row else []
    if row.get("key_slots"):
        marks.append(pytest.mark.key_slots)
    return marks
