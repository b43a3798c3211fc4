"""Waivers (--waivers FILE): known failures a release may ship with, each with a reason, an owner
and an expiry date.

A waiver turns the failures it covers into `waived`. It cannot outlive its reason: once expired,
or once what it covers passes again (stale), it fails the run until it is removed from the file.
"""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass, field

from ghippo_conformance import json_schemas
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.outcomes import Outcome, Results

APPLIED, EXPIRED, STALE, UNUSED = "applied", "expired", "stale", "unused"


class WaiverError(Exception):
    """A waiver file that cannot be used; the message is one sentence for the operator."""


@dataclass(frozen=True)
class Waiver:
    requirement: str
    reason: str
    owner: str
    expires: datetime.date  # the last day the waiver holds
    test: str | None = None  # one test case: its node id, or its parameter id ("crossed-pair")

    @property
    def label(self) -> str:
        return f"{self.requirement} ({self.test})" if self.test else self.requirement

    def covers(self, nodeid: str) -> bool:
        return self.test is None or nodeid == self.test or nodeid.endswith(f"[{self.test}]")


@dataclass(frozen=True)
class WaiverUse:
    """What one waiver did in this run; `problem` is set when it fails the run."""

    waiver: Waiver
    status: str
    waived_tests: list[str] = field(default_factory=list)
    problem: str | None = None


def _dates_as_text(entry: dict) -> dict:
    # TOML has dates of its own; the schema checks the ISO form, so a quoted date works as well.
    return {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in entry.items()}


def load(path: str, catalogue: Catalogue) -> list[Waiver]:
    """Read and check a waiver file; WaiverError says in one sentence what is wrong with it."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise WaiverError(f"waiver file {path} cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise WaiverError(f"waiver file {path} is not valid TOML ({error})") from None
    entries = data.get("waiver", [])
    if isinstance(entries, list):
        data = {**data, "waiver": [_dates_as_text(e) if isinstance(e, dict) else e for e in entries]}
    problems = json_schemas.errors(data, "waivers")
    if problems:
        raise WaiverError(
            f"waiver file {path} is invalid ({problems[0]}): each [[waiver]] needs "
            "requirement, reason, owner and expires (a date such as 2027-01-31)"
        )
    waivers = []
    for entry in data.get("waiver", []):
        if entry["requirement"] not in catalogue:
            raise WaiverError(
                f"waiver file {path} names requirement {entry['requirement']!r}, "
                "which is not in suites/requirements.toml"
            )
        waivers.append(Waiver(**{**entry, "expires": datetime.date.fromisoformat(entry["expires"])}))
    return waivers


def apply(waivers: list[Waiver], results: Results, *, today: datetime.date, path: str) -> list[WaiverUse]:
    """Mark the failures each live waiver covers as waived, and say what became of each waiver."""
    return [_apply_one(waiver, results, today, path) for waiver in waivers]


def _apply_one(waiver: Waiver, results: Results, today: datetime.date, path: str) -> WaiverUse:
    covered = [t for t in results.of(waiver.requirement) if waiver.covers(t.nodeid)]
    if waiver.expires < today:
        return WaiverUse(
            waiver,
            EXPIRED,
            problem=(
                f"the waiver for {waiver.label} (owner {waiver.owner}) expired on {waiver.expires}: "
                f"remove it from {path}, and fix the failure or agree a new waiver"
            ),
        )
    failing = [t for t in covered if t.outcome in (Outcome.FAILED, Outcome.WAIVED)]
    for test in failing:
        test.outcome = Outcome.WAIVED
        test.reason = f"waived until {waiver.expires} (owner {waiver.owner}): {waiver.reason}"
    if failing:
        return WaiverUse(waiver, APPLIED, [t.nodeid for t in failing])
    if any(t.outcome == Outcome.PASSED for t in covered):
        return WaiverUse(
            waiver,
            STALE,
            problem=(
                f"the waiver for {waiver.label} (owner {waiver.owner}) is stale: it passes now; "
                f"remove the waiver from {path}"
            ),
        )
    return WaiverUse(waiver, UNUSED)
