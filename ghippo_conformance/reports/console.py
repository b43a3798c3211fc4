"""The verdict block at the end of the console output: what a reader of a CI log looks for first."""

from __future__ import annotations

from typing import Any

from ghippo_conformance.reports.views import counts_line


def _with_levels(report: dict[str, Any], outcome: str) -> str:
    found = [f"{r['id']} ({r['level']})" for r in report["requirements"] if r["outcome"] == outcome]
    return ", ".join(found) or "none"


def verdict_block(report: dict[str, Any]) -> list[str]:
    """The lines under the "conformance verdict" separator."""
    lines = [f"verdict: {report['verdict']}",
             f"requirements: {counts_line(report)}",
             f"failed: {_with_levels(report, 'failed')}"]
    applied = [w for w in report["waivers"] if w["status"] == "applied"]
    if report["waivers"]:
        lines.append("waivers applied: " + (", ".join(
            f"{w['requirement']} (owner {w['owner']}, until {w['expires']})" for w in applied) or "none"))
    if report["baseline"]:
        lines.append("regressions: " + (", ".join(report["baseline"]["regressions"]) or "none"))
    lines += [f"fails because: {reason}" for reason in report["reasons"]]
    return lines
