"""The reference's variants, as data in selftest/variants.toml, checked and loaded.

A variant is the reference with some `Behaviour` fields overridden: either a defect, which must
fail exactly the requirements it `breaks`, or a tolerance (a difference the documentation allows),
which must pass every MUST. Each runs under the profiles it names, on top of what they describe.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghippo_conformance import json_schemas
from ghippo_reference.behaviour import Behaviour

VARIANTS_FILE = Path(__file__).with_name("variants.toml")
DEFAULT_PROFILES = ("dce5-aksk",)


@dataclass(frozen=True)
class SuiteIssue:
    """A reported flaw of the suite that a variant shows: a check that fails though the variant
    does not break its requirement, or one that cannot catch a break."""

    reason: str
    also_fails: frozenset[str]
    escapes: frozenset[str]


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    profiles: tuple[str, ...]
    overrides: Mapping[str, Any]
    # The requirement IDs a defect must fail; empty for a tolerance.
    breaks: frozenset[str]
    # IDs only generated inputs can see broken: whether they fail depends on the seed.
    by_chance: frozenset[str]
    # IDs none of whose tests may skip: a check that starves hides the defects it is for.
    must_run: frozenset[str]
    tolerance: bool
    suite_issue: SuiteIssue | None

    @property
    def concerns(self) -> frozenset[str]:
        """Every requirement the variant says something about: what a focused kill-matrix run judges."""
        issue = self.suite_issue
        predicted = issue.also_fails | issue.escapes if issue else frozenset()
        return self.breaks | self.by_chance | self.must_run | predicted


def load(path: Path = VARIANTS_FILE) -> list[Variant]:
    """The variants of `path`, checked against schemas/variants.json and Behaviour's fields."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    problems = json_schemas.errors(data, "variants")
    if problems:
        raise ValueError(f"{path} is invalid: {problems[0]}")
    variants = []
    for row in data["variant"]:
        try:
            Behaviour.from_overrides(row["overrides"])
        except ValueError as error:
            raise ValueError(f"{path}, variant {row['name']}: {error}") from None
        variants.append(
            Variant(
                name=row["name"],
                description=row["description"],
                profiles=tuple(row.get("profiles", DEFAULT_PROFILES)),
                overrides=row["overrides"],
                breaks=frozenset(row.get("breaks", ())),
                by_chance=frozenset(row.get("by_chance", ())),
                must_run=frozenset(row.get("must_run", ())),
                tolerance=row.get("kind") == "tolerance",
                suite_issue=_suite_issue(row.get("suite_issue")),
            )
        )
    names = [variant.name for variant in variants]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"{path}: variant names must be unique, repeated: {', '.join(duplicated)}")
    return variants


def _suite_issue(table: Mapping[str, Any] | None) -> SuiteIssue | None:
    if table is None:
        return None
    return SuiteIssue(
        table["reason"],
        frozenset(table.get("also_fails", ())),
        frozenset(table.get("escapes", ())),
    )
