"""The HTML report: pytest-html's page, whose first screen is the requirement matrix.

pytest-html renders its summary block on the server side; the matrix goes into that block's
prefix (pytest_html_results_summary), and a few style rules move the block above the environment
table. One row per requirement, grouped by area and coloured by outcome; failures come expanded
with their evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pytest

from ghippo_conformance.reports.views import BASELINE_LISTS, by_area, first_line, headline
from ghippo_conformance.verdict.outcomes import Outcome

TITLE = "Ghippo access-key API conformance"

# pytest-html lays the page out as plain blocks; as a flex column the summary (with the matrix)
# can come straight after the title without touching pytest-html's template.
_STYLE = """
body { display: flex; flex-direction: column; }
#title, body > p:first-of-type { order: -2; }
.summary { order: -1; display: block; }
#conformance { color: #1f2328; }
#conformance .verdict-pass { color: #1a7f37; } #conformance .verdict-fail { color: #cf222e; }
#conformance .verdict-incomplete, #conformance .verdict-partial { color: #9a6700; }
#conformance-matrix { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; }
#conformance-matrix th, #conformance-matrix td { border: 1px solid #d0d7de; padding: 4px 8px;
  text-align: left; vertical-align: top; }
#conformance-matrix tr.area th { background: #f6f8fa; text-transform: uppercase; }
#conformance-matrix tr.outcome-passed { background: #dafbe1; }
#conformance-matrix tr.outcome-failed { background: #ffebe9; }
#conformance-matrix tr.outcome-waived, #conformance-matrix tr.outcome-pending { background: #fff8c5; }
#conformance-matrix tr.outcome-error { background: #fbefff; }
#conformance-matrix tr.outcome-skipped { background: #eaeef2; }
#conformance-matrix tr.outcome-not-applicable { background: #f6f8fa; color: #57606a; }
#conformance-matrix td:first-child { white-space: nowrap; }
#conformance-matrix .source { color: #57606a; font-size: smaller; }
#conformance-matrix pre { white-space: pre-wrap; word-break: break-all; margin: 0.3em 0; }
"""


def _evidence(requirement: dict[str, Any]) -> str:
    shown = [t for t in requirement["tests"] if t["evidence"]]
    if not shown:
        return ""
    blocks = "".join(
        f"<p><code>{escape(t['nodeid'])}</code> {escape(t['outcome'])}: "
        f"{escape(first_line(t['reason']))}</p><pre>{escape(t['evidence'])}</pre>"
        for t in shown
    )
    opened = " open" if requirement["outcome"] == Outcome.FAILED else ""
    return f"<details{opened}><summary>evidence</summary>{blocks}</details>"


def _row(requirement: dict[str, Any]) -> str:
    outcome = requirement["outcome"]
    reason = f"<br>{escape(first_line(requirement['reason']))}" if requirement["reason"] else ""
    return (
        f'<tr class="requirement outcome-{outcome}" id="requirement-{escape(requirement["id"])}">'
        f"<td><code>{escape(requirement['id'])}</code></td><td>{requirement['level']}</td>"
        f"<td>{outcome}{reason}</td>"
        f'<td>{escape(requirement["statement"])}<div class="source">{escape(requirement["source"])}</div>'
        f"{_evidence(requirement)}</td></tr>"
    )


def _baseline(report: dict[str, Any]) -> str:
    comparison = report["baseline"]
    if not comparison:
        return ""
    items = "".join(
        f"<li>{title}: {escape(', '.join(comparison[key]) or 'none')}</li>" for title, key in BASELINE_LISTS
    )
    return f'<p>Against the baseline of {escape(comparison["started"])}:</p><ul class="baseline">{items}</ul>'


def _leftovers(report: dict[str, Any]) -> str:
    if not report["leftovers"]:
        return ""
    items = "".join(f"<li><code>{escape(key)}</code></li>" for key in report["leftovers"])
    return (
        "<h3>Keys this run could not remove</h3><p>They fail the run; remove them by hand:</p>"
        f'<ul class="leftovers">{items}</ul>'
    )


def _notices(report: dict[str, Any]) -> str:
    if not report["notices"]:
        return ""
    items = "".join(f"<li>{escape(notice)}</li>" for notice in report["notices"])
    return f'<h3>What the session-start check decided</h3><ul class="notices">{items}</ul>'


def _unchecked(report: dict[str, Any]) -> str:
    if not report["unchecked"]:
        return ""
    items = "".join(
        f"<li><code>{escape(entry['id'])}</code> ({entry['level']}, {entry['outcome']}): {escape(entry['why'])}</li>"
        for entry in report["unchecked"]
    )
    return f'<h3>Not judged</h3><ul class="unchecked">{items}</ul>'


def matrix_html(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in report["reasons"])
    groups = "".join(
        f'<tbody><tr class="area"><th colspan="4">{escape(area)}</th></tr>{"".join(map(_row, rows))}</tbody>'
        for area, rows in by_area(report).items()
    )
    return (
        f'<style>{_STYLE}</style><section id="conformance">'
        f'<h2>Conformance: <span class="verdict-{verdict}">{verdict}</span></h2>'
        f"<p>{escape(headline(report))}</p>"
        + (f'<ul class="reasons">{reasons}</ul>' if reasons else "")
        + _unchecked(report)
        + _leftovers(report)
        + _notices(report)
        + _baseline(report)
        + '<table id="conformance-matrix"><thead><tr><th>Requirement</th><th>Level</th>'
        f"<th>Outcome</th><th>Statement, source and evidence</th></tr></thead>{groups}</table></section>"
    )


class HtmlMatrix:
    """pytest-html hooks, registered by the plugin when --html is given."""

    def __init__(self, report: Callable[[], dict[str, Any] | None], redact: Callable[[str], str]) -> None:
        self._report = report  # the conformance report, once the session has concluded
        self._redact = redact

    def pytest_html_report_title(self, report) -> None:
        report.title = TITLE

    def pytest_html_results_summary(self, prefix: list[str], summary, postfix, session: pytest.Session) -> None:
        document = self._report()
        if document is not None:
            prefix.append(self._redact(matrix_html(document)))
