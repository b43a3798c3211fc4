"""The requirement catalogue (suites/requirements.toml) and what applies to a profile."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from ghippo_conformance import json_schemas, paths
from ghippo_conformance.checks import cases
from ghippo_conformance.deployment.profile import Section

ROWS = "requirement"  # the catalogue's rows are its [[requirement]] array


class CatalogueError(Exception):
    """A catalogue that does not match schemas/requirements.json or repeats an id; one sentence."""


class Level(StrEnum):
    """How much a requirement's failure weighs: MUST fails the run, SHOULD warns (fails with --strict),
    MAY informs. A StrEnum, so that it compares, prints and serializes as its name."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    area: str
    statement: str
    source: str
    flows: tuple[str, ...]
    needs: tuple[str, ...] = field(default=())

    def not_applicable_because(self, profile: Section) -> str | None:
        """Why this requirement does not apply to `profile`, or None when it does."""
        if profile.flow not in self.flows:
            return f"applies to the {' and '.join(self.flows)} flow; profile {profile.name} uses {profile.flow}"
        missing = [need for need in self.needs if not _enabled(profile, need)]
        if missing:
            return f"profile {profile.name} does not set {', '.join(missing)}"
        return None


def _enabled(profile: Section, setting: str) -> bool:
    if not profile.has(setting):
        return False
    section, _, key = setting.rpartition(".")
    return getattr(getattr(profile, section), key) is not False


@dataclass(frozen=True)
class Catalogue:
    version: str
    requirements: dict[str, Requirement]

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements


@lru_cache(maxsize=1)
def load() -> Catalogue:
    """The suite's catalogue, suites/requirements.toml."""
    return read(paths.CATALOGUE)


def read(path: Path) -> Catalogue:
    """The catalogue in `path`, validated against schemas/requirements.json; CatalogueError says
    in one sentence which requirement and which column is wrong."""
    shown = cases.shown_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{shown} is not valid TOML: {error}") from None
    found = cases.row_problems(
        shown, data, ROWS, json_schemas.validator("requirements").iter_errors(data), row_noun="requirement"
    )
    found = found or cases.duplicate_ids(shown, data[ROWS], row_noun="requirement")
    if found:
        raise CatalogueError(found[0])
    return Catalogue(data["version"], {row["id"]: _requirement(row) for row in data[ROWS]})


def _requirement(row: dict) -> Requirement:
    return Requirement(
        **{**row, "level": Level(row["level"]), "flows": tuple(row["flows"]), "needs": tuple(row.get("needs", ()))}
    )
