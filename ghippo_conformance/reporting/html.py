"""The HTML report: pytest-html's page, whose first screen is the requirement matrix.

pytest-html renders its summary block on the server side; the matrix goes into that block's
prefix (pytest_html_results_summary), and a few style rules move the block above the environment
table. One row per requirement, coloured by outcome: the failed ones first, then the rest grouped
by area. Each row lists its tests; a failure comes expanded with its evidence and how to reproduce
it (the command that reruns it, its requests as curl lines).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pytest

from ghippo_conformance.reporting.views import BASELINE_LISTS, by_area, first_line, headline
from ghippo_conformance.verdict.outcomes import Outcome

TITLE = "Ghippo access-key API conformance"
EMBEDDED = "the embedded reference, not a deployment"
FAILED_GROUP = "failed"

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
#conformance-matrix ul.tests { margin: 0.3em 0; padding-left: 1.2em; }
#conformance-matrix pre.reproduce { background: #f6f8fa; }
"""


def _reproduce(test: dict[str, Any]) -> str:
    """A failed or waived test's command to rerun it and its requests as curl lines."""
    lines = [*([test["rerun"]] if test.get("rerun") else []), *test.get("replay", [])]
    return f'<pre class="reproduce">{escape(chr(10).join(lines))}</pre>' if lines else ""


def _test(test: dict[str, Any]) -> str:
    reason = f": {escape(first_line(test['reason']))}" if test["reason"] else ""
    evidence = f"<pre>{escape(test['evidence'])}</pre>" if test["evidence"] else ""
    return f"<li><code>{escape(test['nodeid'])}</code> {test['outcome']}{reason}{evidence}{_reproduce(test)}</li>"


def _tests(requirement: dict[str, Any]) -> str:
    """The requirement's tests, each with its outcome; a failure's evidence and how to reproduce it."""
    tests = requirement["tests"]
    if not tests:
        return ""
    failed = requirement["outcome"] == Outcome.FAILED
    rerun = f'<pre class="reproduce">{escape(requirement["rerun"])}</pre>' if failed and "rerun" in requirement else ""
    summary = f"{len(tests)} test{'s' if len(tests) != 1 else ''}"
    summary += ", evidence and how to reproduce" if any(t["evidence"] for t in tests) else ""
    items = f'<ul class="tests">{"".join(map(_test, tests))}</ul>'
    return f"<details{' open' if failed else ''}><summary>{summary}</summary>{rerun}{items}</details>"


def _row(requirement: dict[str, Any]) -> str:
    outcome = requirement["outcome"]
    reason = f"<br>{escape(first_line(requirement['reason']))}" if requirement["reason"] else ""
    return (
        f'<tr class="requirement outcome-{outcome}" id="requirement-{escape(requirement["id"])}">'
        f"<td><code>{escape(requirement['id'])}</code></td><td>{requirement['level']}</td>"
        f"<td>{outcome}{reason}</td>"
        f'<td>{escape(requirement["statement"])}<div class="source">{escape(requirement["source"])}</div>'
        f"{_tests(requirement)}</td></tr>"
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


def _replay_setup(report: dict[str, Any]) -> str:
    setup = report["replay_setup"]
    if not setup:
        return ""
    return (
        f'<h3>Before sending a failure\'s requests again</h3><pre class="reproduce">{escape(chr(10).join(setup))}</pre>'
    )


def _groups(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The failed requirements first, then the rest by area."""
    failed = [r for r in report["requirements"] if r["outcome"] == Outcome.FAILED]
    areas = {area: [r for r in rows if r["outcome"] != Outcome.FAILED] for area, rows in by_area(report).items()}
    return {**({FAILED_GROUP: failed} if failed else {}), **{area: rows for area, rows in areas.items() if rows}}


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
        f'<tbody><tr class="area"><th colspan="4">{escape(group)}</th></tr>{"".join(map(_row, rows))}</tbody>'
        for group, rows in _groups(report).items()
    )
    against = f" against {EMBEDDED}" if report["target"]["embedded_reference"] else ""
    return (
        f'<style>{_STYLE}</style><section id="conformance">'
        f'<h2>Conformance: <span class="verdict-{verdict}">{verdict}</span>{against}</h2>'
        f"<p>{escape(headline(report))}</p>"
        + (f'<ul class="reasons">{reasons}</ul>' if reasons else "")
        + _unchecked(report)
        + _leftovers(report)
        + _notices(report)
        + _baseline(report)
        + _replay_setup(report)
        + '<table id="conformance-matrix"><thead><tr><th>Requirement</th><th>Level</th>'
        f"<th>Outcome</th><th>Statement, source and evidence</th></tr></thead>{groups}</table></section>"
    )


class HtmlMatrix:
    """pytest-html hooks, registered by the plugin when --html is given."""

    def __init__(
        self, report: Callable[[], dict[str, Any] | None], redact: Callable[[str], str], *, embedded: bool
    ) -> None:
        self._report = report  # the conformance report, once the session has concluded
        self._redact = redact
        self._embedded = embedded  # the run tested the embedded reference: the title says so

    def pytest_html_report_title(self, report) -> None:
        report.title = f"{TITLE} ({EMBEDDED})" if self._embedded else TITLE

    def pytest_html_results_summary(self, prefix: list[str], summary, postfix, session: pytest.Session) -> None:
        document = self._report()
        if document is not None:
            prefix.append(self._redact(matrix_html(document)))
