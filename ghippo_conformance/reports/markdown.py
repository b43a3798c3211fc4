"""The Markdown summary (--summary-md): the requirement matrix, short enough for a CI job summary
or a pull-request comment. Problems come first; the full matrix folds away under <details>."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ghippo_conformance.reports.views import BASELINE_LISTS, by_area, first_line, headline
from ghippo_conformance.target.inert import inert
from ghippo_conformance.verdict.outcomes import Outcome, Verdict

_ICON = {
    Outcome.PASSED: "✅",
    Outcome.FAILED: "❌",
    Outcome.ERROR: "💥",
    Outcome.WAIVED: "⚠️",
    Outcome.PENDING: "⏳",
    Outcome.SKIPPED: "⏭️",
    Outcome.NOT_APPLICABLE: "➖",
}
_VERDICT_ICON = {Verdict.PASS: "✅", Verdict.PARTIAL: "⚠️"}


def _cell(text: str) -> str:
    """Our own text (catalogue statements), kept on one table row."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Text a deployment may have written, shown as inline code so that no tag, link or emphasis in
    it renders; the fence is one backtick longer than any run of backticks inside, and `|` is
    escaped because GitHub splits table cells before it parses code spans."""
    text = inert(text).replace("\n", " ").replace("|", "\\|")
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table(requirements: list[dict[str, Any]], last: str, value: Callable[[dict[str, Any]], str]) -> list[str]:
    lines = [f"| Requirement | Level | Outcome | {last} |", "|---|---|---|---|"]
    lines += [
        f"| `{r['id']}` | {r['level']} | {_ICON[r['outcome']]} {r['outcome']} | {value(r)} |" for r in requirements
    ]
    return lines


def _id_list(title: str, ids: list[str]) -> str:
    return f"**{title}** ({len(ids)}): " + (", ".join(f"`{i}`" for i in ids) or "none")


def render(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    lines = [f"## {_VERDICT_ICON.get(verdict, '❌')} Ghippo conformance: {verdict}", "", headline(report), ""]
    lines += [f"- {_code(reason)}" for reason in report["reasons"]]
    lines += [""] if report["reasons"] else []
    if report["leftovers"]:
        lines += ["### Keys this run could not remove", "", "They fail the run; remove them by hand:", ""]
        lines += [f"- {_code(key)}" for key in report["leftovers"]] + [""]
    if report["sweep_error"]:
        lines += ["### Keys this run could not check", "", _code(report["sweep_error"]), ""]
    if report["notices"]:
        lines += ["### What the session-start check decided", ""]
        lines += [f"- {_code(notice)}" for notice in report["notices"]] + [""]
    problems = [r for r in report["requirements"] if r["outcome"] in (Outcome.FAILED, Outcome.WAIVED)]
    if problems:
        lines += ["### Failed and waived", "", *_table(problems, "Why", lambda r: _code(first_line(r["reason"]))), ""]
    if report["unchecked"]:
        lines += ["### Not judged", "", *_table(report["unchecked"], "Why", lambda r: _code(first_line(r["why"]))), ""]
    comparison = report["baseline"]
    if comparison:
        lines += [f"### Against the baseline ({comparison['started']})", ""]
        for title, key in BASELINE_LISTS:
            lines += [_id_list(title, comparison[key]), ""]
    waivers = report["waivers"]
    if waivers:
        lines += ["### Waivers", "", "| Requirement | Status | Owner | Expires | Reason |", "|---|---|---|---|---|"]
        lines += [
            f"| `{w['requirement']}`{' ' + _cell(w['test']) if w['test'] else ''} | {w['status']} "
            f"| {_cell(w['owner'])} | {w['expires']} | {_cell(w['reason'])} |"
            for w in waivers
        ]
        lines += [""]
    lines += [f"<details><summary>All {len(report['requirements'])} requirements</summary>", ""]
    for area, requirements in by_area(report).items():
        lines += [f"#### {area}", "", *_table(requirements, "Statement", lambda r: _cell(r["statement"])), ""]
    lines += ["</details>", ""]
    return "\n".join(lines)
