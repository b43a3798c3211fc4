"""What the human reports (Markdown, HTML, console) share when they show a conformance report:
requirements grouped by area, one line saying what ran against what, the counts."""

from __future__ import annotations

from typing import Any

from ghippo_conformance.verdict.outcomes import Outcome

# The baseline comparison's lists, each with its heading.
BASELINE_LISTS = (("Regressions", "regressions"), ("Fixed", "fixes"), ("Unchanged failures", "unchanged_failures"))


def by_area(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The requirements grouped by area, areas and requirements in catalogue order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for requirement in report["requirements"]:
        groups.setdefault(requirement["area"], []).append(requirement)
    return groups


def counts_line(report: dict[str, Any]) -> str:
    return ", ".join(f"{report['counts'][outcome]} {outcome}" for outcome in Outcome)


def headline(report: dict[str, Any]) -> str:
    target = report["target"]
    where = " (embedded reference)" if target["embedded_reference"] else ""
    return (
        f"Profile {report['profile']['name']} ({report['profile_reason']}) against {target['base_url']}{where}; "
        f"suite {report['suite_version']}, catalogue {report['catalogue_version']}, "
        f"seed {report['seed']}. Requirements: {counts_line(report)}."
    )


def unchecked_by_why(report: dict[str, Any]) -> dict[str, list[str]]:
    """The requirements that decide the verdict and were not judged in full, as "ID (LEVEL)", grouped by
    why (in the order first met): one line each for a run that left out dozens for one reason."""
    groups: dict[str, list[str]] = {}
    for entry in report["unchecked"]:
        groups.setdefault(entry["why"], []).append(f"{entry['id']} ({entry['level']})")
    return groups


def first_line(text: str) -> str:
    return text.partition("\n")[0]
