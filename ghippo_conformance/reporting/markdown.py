"""The Markdown summary (--summary-md): the requirement matrix, short enough for a CI job summary
or a pull-request comment. Problems come first, each failure with the first lines of its evidence and
how to reproduce it; the full matrix folds away under <details>."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ghippo_conformance.deployment.inert import inert
from ghippo_conformance.deployment.replay import CURL_LABEL
from ghippo_conformance.reporting.views import BASELINE_LISTS, by_area, first_line, headline
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


def _table(requirements: list[dict[str, Any]], columns: dict[str, Callable[[dict[str, Any]], str]]) -> list[str]:
    lines = [f"| Requirement | Level | Outcome | {' | '.join(columns)} |", "|---|---|---|" + "---|" * len(columns)]
    lines += [
        f"| `{r['id']}` | {r['level']} | {_ICON[r['outcome']]} {r['outcome']} | "
        + " | ".join(value(r) for value in columns.values())
        + " |"
        for r in requirements
    ]
    return lines


def _reason(requirement: dict[str, Any]) -> str:
    return _code(_cut(first_line(requirement["reason"])))


# A failure's details are bounded, so that the summary still fits a pull-request comment (65,536
# characters) when many requirements fail: the first lines of each test's evidence, each line cut
# short, a few tests per requirement, and no details at all once the budget is spent.
_EVIDENCE_LINES = 10
_LINE_CHARS = 300
_TESTS_SHOWN = 3
_DETAILS_BUDGET = 40_000


def _cut(line: str) -> str:
    return line if len(line) <= _LINE_CHARS else f"{line[:_LINE_CHARS]}… ({len(line)} chars; whole in the JSON report)"


def _fenced(lines: list[str], info: str) -> list[str]:
    """A fenced code block: nothing in it renders, and no line of it can close it early."""
    text = inert("\n".join(lines))
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return [f"{fence}{info}", text, fence, ""]


def _test_details(requirement: dict[str, Any], test: dict[str, Any]) -> list[str]:
    evidence = [line for line in test["evidence"].split("\n") if not line.startswith(CURL_LABEL)]
    excerpt = [_cut(line) for line in evidence[:_EVIDENCE_LINES]]
    if len(evidence) > _EVIDENCE_LINES:
        excerpt.append(f"… ({len(evidence) - _EVIDENCE_LINES} more lines in the JSON report)")
    commands = [
        "# rerun this requirement alone",
        requirement["rerun"],
        *(["# rerun this test alone", test["rerun"]] if test["rerun"] else []),
        *(["# its requests, to send again", *map(_cut, test["replay"])] if test["replay"] else []),
    ]
    return [_code(test["nodeid"]), "", *_fenced(excerpt, "text"), *_fenced(commands, "sh")]


def _failures(report: dict[str, Any]) -> list[str]:
    """Each failed requirement with the first lines of its failed tests' evidence and how to reproduce them."""
    failed = [r for r in report["requirements"] if r["outcome"] == Outcome.FAILED]
    if not failed:
        return []
    lines = ["### How they failed, and how to reproduce it", ""]
    setup = report["replay_setup"]
    if setup:
        lines += ["Before sending a failure's requests again:", "", *_fenced(setup, "sh")]
    spent, untold = 0, []
    for requirement in failed:
        tests = [t for t in requirement["tests"] if t["outcome"] == Outcome.FAILED]
        details = [f"#### `{requirement['id']}` ({requirement['level']})", ""]
        for test in tests[:_TESTS_SHOWN]:
            details += _test_details(requirement, test)
        if len(tests) > _TESTS_SHOWN:
            details += [f"and {len(tests) - _TESTS_SHOWN} more failed tests, in the JSON report", ""]
        spent += sum(len(line) + 1 for line in details)
        if spent > _DETAILS_BUDGET:
            untold.append(requirement["id"])
        else:
            lines += details
    if untold:
        lines += [_id_list("Also failed, their evidence in the JSON report", untold), ""]
    return lines


def _id_list(title: str, ids: list[str]) -> str:
    return f"**{title}** ({len(ids)}): " + (", ".join(f"`{i}`" for i in ids) or "none")


def render(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    against = " against the embedded reference, not a deployment" if report["target"]["embedded_reference"] else ""
    lines = [
        f"## {_VERDICT_ICON.get(verdict, '❌')} Ghippo conformance: {verdict}{against}",
        "",
        headline(report),
        "",
    ]
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
        lines += ["### Failed and waived", "", *_table(problems, {"Why": _reason}), ""]
    if report["unchecked"]:
        lines += [
            "### Not judged",
            "",
            *_table(report["unchecked"], {"Why": lambda r: _code(_cut(first_line(r["why"])))}),
            "",
        ]
    lines += _failures(report)
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
        columns = {"Reason": _reason, "Statement": lambda r: _cell(r["statement"])}
        lines += [f"#### {area}", "", *_table(requirements, columns), ""]
    lines += ["</details>", ""]
    return "\n".join(lines)
