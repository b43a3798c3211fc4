"""The requirement catalogue (suites/requirements.toml) and what applies to a profile."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache

from ghippo_conformance.checks import paths
from ghippo_conformance.target.profile import Section

LEVELS = ("MUST", "SHOULD", "MAY")


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
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
    data = tomllib.loads(paths.CATALOGUE.read_text(encoding="utf-8"))
    requirements = {}
    for row in data["requirement"]:
        requirement = Requirement(
            **{**row, "flows": tuple(row["flows"]), "needs": tuple(row.get("needs", ()))}
        )
        if requirement.level not in LEVELS or requirement.id in requirements:
            raise ValueError(f"catalogue entry {requirement.id}: bad level or duplicate id")
        requirements[requirement.id] = requirement
    return Catalogue(data["version"], requirements)
