"""The verdict block at the end of the console output: what a reader of a CI log looks for first."""

from __future__ import annotations

from typing import Any

from ghippo_conformance.deployment.settings import Settings
from ghippo_conformance.reporting.views import counts_line, unchecked_by_why
from ghippo_conformance.verdict.catalogue import Catalogue
from ghippo_conformance.verdict.outcomes import Outcome, Verdict

_LABELS = {Verdict.FAIL: "fails because", Verdict.PARTIAL: "partial because"}


def _with_levels(report: dict[str, Any], outcome: str) -> str:
    found = [f"{r['id']} ({r['level']})" for r in report["requirements"] if r["outcome"] == outcome]
    return ", ".join(found) or "none"


def verdict_block(report: dict[str, Any]) -> list[str]:
    """The lines under the "conformance verdict" separator."""
    lines = [
        f"verdict: {report['verdict']}"
        + (" (against the embedded reference, not a deployment)" if report["target"]["embedded_reference"] else ""),
        f"requirements: {counts_line(report)}",
        f"failed: {_with_levels(report, 'failed')}",
    ]
    lines += [f"not judged: {', '.join(ids)}: {why}" for why, ids in unchecked_by_why(report).items()]
    if report["leftovers"]:
        lines.append(f"left on the deployment, remove by hand: {', '.join(report['leftovers'])}")
    applied = [w for w in report["waivers"] if w["status"] == "applied"]
    if report["waivers"]:
        lines.append(
            "waivers applied: "
            + (", ".join(f"{w['requirement']} (owner {w['owner']}, until {w['expires']})" for w in applied) or "none")
        )
    if report["baseline"]:
        lines.append("regressions: " + (", ".join(report["baseline"]["regressions"]) or "none"))
    label = _LABELS.get(report["verdict"], "incomplete because")
    lines += [f"{label}: {reason}" for reason in report["reasons"]]
    return lines


def rerun_lines(report: dict[str, Any]) -> list[str]:
    """For each failed requirement, the command that reruns it alone."""
    return [f"rerun {r['id']} alone: {r['rerun']}" for r in report["requirements"] if r["outcome"] == Outcome.FAILED]


def reports_written(settings: Settings, *, stopped_at_start: bool = False) -> list[str]:
    """The line that names every report file the run wrote, paths as given; a run stopped at its start
    writes only the JSON report and the Markdown summary."""
    named = [("JSON", settings.conformance_report), ("Markdown", settings.summary_md)]
    if not stopped_at_start:
        named += [("HTML", settings.html_path), ("JUnit", settings.junit_path)]
    written = [f"{kind} {path}" for kind, path in named if path]
    return [f"reports: {', '.join(written)}"] if written else []


def catalogue_listing(catalogue: Catalogue) -> str:
    """The catalogue as --list-requirements prints it: each requirement's ID, level and area on one
    line, its statement and source indented below."""
    lines = [f"requirement catalogue {catalogue.version}: {len(catalogue.requirements)} requirements", ""]
    for requirement in catalogue.requirements.values():
        lines += [
            f"{requirement.id}  {requirement.level}  {requirement.area}",
            f"    {requirement.statement}",
            f"    source: {requirement.source}",
        ]
    return "\n".join(lines)
