"""The release gate's rules, on hand-made results: verdicts, waivers, baselines, redaction."""

import datetime

import pytest

from ghippo_conformance.checks import paths
from ghippo_conformance.target.redact import Redactor
from ghippo_conformance.verdict import catalogue, gate, waivers
from ghippo_conformance.verdict.baseline import Baseline, compare
from ghippo_conformance.verdict.outcomes import Results, TestResult
from ghippo_conformance.verdict.waivers import Waiver, WaiverError

CATALOGUE = catalogue.load()
MUST, SHOULD = "TOKEN-ISSUE", "SCHEMA-ERROR"
TODAY = datetime.date(2026, 11, 22)
NO_INPUTS = gate.Inputs(waivers=[], waiver_file=None, baseline=None, strict=False, certify=False)


def results(*tests: tuple[str, str, str]) -> Results:
    """Results of (requirement, node id, outcome); every other requirement passed."""
    made = Results()
    for requirement_id in CATALOGUE.requirements:
        made.tests[f"t::{requirement_id}"] = TestResult(f"t::{requirement_id}", requirement_id)
    for requirement_id, nodeid, outcome in tests:
        made.tests.pop(f"t::{requirement_id}", None)
        made.tests[nodeid] = TestResult(nodeid, requirement_id, outcome, reason=f"{outcome} here")
    return made


def conclude(made: Results, **inputs) -> gate.Conclusion:
    return gate.conclude(made, CATALOGUE, gate.Inputs(**{**vars(NO_INPUTS), **inputs}), today=TODAY)


@pytest.mark.parametrize(
    "requirement, outcome, options, verdict",
    [
        pytest.param(MUST, "failed", {}, "fail", id="failed-must"),
        pytest.param(SHOULD, "failed", {}, "pass", id="failed-should"),
        pytest.param(SHOULD, "failed", {"strict": True}, "fail", id="failed-should-strict"),
        pytest.param(MUST, "skipped", {}, "pass", id="skipped-must"),
        pytest.param(MUST, "skipped", {"certify": True}, "fail", id="skipped-must-certify"),
        pytest.param(MUST, "not-applicable", {"certify": True}, "pass", id="not-applicable-must-certify"),
    ],
)
def test_verdict_follows_level_and_options(requirement, outcome, options, verdict):
    assert conclude(results((requirement, "t::x", outcome)), **options).verdict == verdict


def test_waived_must_fails_a_certification_run_only():
    waived = [Waiver(MUST, "known", "team", TODAY)]
    made = results((MUST, "t::x", "failed"))
    assert conclude(made, waivers=waived, waiver_file="w.toml").verdict == "pass"
    made = results((MUST, "t::x", "failed"))
    certified = conclude(made, waivers=waived, waiver_file="w.toml", certify=True)
    assert certified.reasons == [f"MUST {MUST} was waived, and a certification run (--certify) admits no exceptions"]


@pytest.mark.parametrize(
    "test, waived",
    [
        pytest.param(None, ["t::a[one]", "t::a[two]"], id="whole-requirement"),
        pytest.param("two", ["t::a[two]"], id="parameter-id"),
        pytest.param("t::a[one]", ["t::a[one]"], id="node-id"),
    ],
)
def test_waiver_covers_the_requirement_or_one_test_case(test, waived):
    made = results((MUST, "t::a[one]", "failed"), (MUST, "t::a[two]", "failed"))
    conclusion = conclude(made, waivers=[Waiver(MUST, "known", "team", TODAY, test)], waiver_file="w.toml")
    assert conclusion.waivers[0].waived_tests == waived
    assert conclusion.table[MUST].outcome == ("waived" if len(waived) == 2 else "failed")


@pytest.mark.parametrize(
    "outcome, expires, status",
    [
        pytest.param("failed", TODAY, "applied", id="holds-on-its-last-day"),
        pytest.param("failed", TODAY - datetime.timedelta(days=1), "expired", id="expired"),
        pytest.param("passed", TODAY, "stale", id="stale"),
        pytest.param("not-applicable", TODAY, "unused", id="unused"),
    ],
)
def test_waiver_status(outcome, expires, status):
    made = results((MUST, "t::x", outcome))
    conclusion = conclude(made, waivers=[Waiver(MUST, "known", "team", expires)], waiver_file="w.toml")
    assert conclusion.waivers[0].status == status
    assert conclusion.verdict == ("pass" if status in ("applied", "unused") else "fail")


@pytest.mark.parametrize(
    "content, complaint",
    [
        pytest.param(
            '[[waiver]]\nrequirement = "TOKEN-ISSUE"\nreason = "r"\nowner = "o"\nexpires = "soon"\n',
            "is invalid ($.waiver[0].expires: 'soon' is not a 'date')",
            id="not-a-date",
        ),
        pytest.param(
            '[[waiver]]\nrequirement = "NO-SUCH"\nreason = "r"\nowner = "o"\nexpires = 2030-01-01\n',
            "names requirement 'NO-SUCH', which is not in suites/requirements.toml",
            id="unknown-id",
        ),
        pytest.param('[waiver]\nrequirement = "TOKEN-ISSUE"\n', "is invalid ($.waiver: ", id="table-not-list"),
        pytest.param("[[waiver]\n", "is not valid TOML", id="not-toml"),
    ],
)
def test_unusable_waiver_file_is_named_with_what_is_wrong(tmp_path, content, complaint):
    path = tmp_path / "waivers.toml"
    path.write_text(content)
    with pytest.raises(WaiverError) as raised:
        waivers.load(str(path), CATALOGUE)
    assert str(raised.value).startswith(f"waiver file {path} ") and complaint in str(raised.value)


def test_example_waiver_file_is_valid():
    loaded = waivers.load(str(paths.FIXTURES / "waivers.example.toml"), CATALOGUE)
    assert [w.test for w in loaded] == [None, "crossed-pair"]


def test_regression_fails_the_run_even_for_a_should():
    before = Baseline("old.json", "2026-11-01T00:00:00+00:00", {SHOULD: "passed"})
    conclusion = conclude(results((SHOULD, "t::x", "failed")), baseline=before)
    assert conclusion.reasons == [f"{SHOULD} regressed: it passed in the baseline old.json and fails now"]


def test_baseline_sorts_regressions_fixes_and_known_failures():
    before = Baseline(
        "old.json",
        "2026-11-01T00:00:00+00:00",
        {"TOKEN-ISSUE": "passed", "TOKEN-CYCLE": "failed", "TOKEN-CLAIMS": "waived", "TOKEN-USABLE": "passed"},
    )
    made = results(
        ("TOKEN-ISSUE", "t::1", "failed"), ("TOKEN-CLAIMS", "t::3", "failed"), ("TOKEN-USABLE", "t::4", "skipped")
    )
    comparison = compare(before, made.by_requirement(CATALOGUE))
    assert (comparison.regressions, comparison.fixes, comparison.unchanged_failures) == (
        ["TOKEN-ISSUE"],
        ["TOKEN-CYCLE"],
        ["TOKEN-CLAIMS"],
    )


def test_redactor_hides_secrets_cut_short():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6MTl9." + "s1gnatureSEGMENT_-" * 10
    redact = Redactor()
    redact.add(token)
    signature = token.rindex(".") + 1
    # pytest's repr of an argument keeps both ends; the evidence keeps the start of a long body.
    cut = {
        f"bearer = '{token[:60]}...{token[-50:]}'": token[-50:],
        '{"token":"' + token[:120] + "… (708 chars)": token[signature:120],
    }
    for text, piece in cut.items():
        assert piece not in redact(text) and "[redacted, " in redact(text)
    assert redact("test_token_lives_default_lifetime") == "test_token_lives_default_lifetime"


def crash_report(nodeid: str, when: str = "call", outcome: str = "failed", properties=()) -> pytest.TestReport:
    """A report as xdist makes one for a crashed worker: no properties, the crash as its text."""
    return pytest.TestReport(
        nodeid,
        ("suites/x.py", None, nodeid),
        {},
        outcome,
        f"worker 'gw0' crashed while running {nodeid!r}",
        when,
        user_properties=list(properties),
    )


def test_crash_after_setup_fails_the_requirement_its_setup_named():
    made = results()
    made.record(crash_report("t::crashed", "setup", "passed", [("requirement", MUST)]))
    made.record(crash_report("t::crashed"))
    conclusion = conclude(made)
    assert conclusion.table[MUST].outcome == "failed"
    assert conclusion.verdict == "fail" and "crashed" in conclusion.reasons[0]


def test_failure_no_requirement_accounts_for_fails_the_run():
    made = results()
    made.record(crash_report("t::crashed-in-setup", "setup"))
    conclusion = conclude(made)
    assert all(entry.outcome == "passed" for entry in conclusion.table.values())
    assert conclusion.verdict == "fail"
    assert conclusion.reasons == [
        "t::crashed-in-setup: worker 'gw0' crashed while running 't::crashed-in-setup': "
        "a failure outside any requirement, so the run cannot vouch for the deployment"
    ]


@pytest.mark.parametrize(
    ("sent", "recorded"),
    [
        ("suites/t.py::test_x[users-trailing-slash]@anonymous-requests", "suites/t.py::test_x[users-trailing-slash]"),
        ("suites/t.py::test_y@key-slots", "suites/t.py::test_y"),
        ("suites/t.py::test_x[a@b]", "suites/t.py::test_x[a@b]"),
    ],
)
def test_a_test_is_named_as_a_serial_run_names_it(sent, recorded):
    # Under -n N with --dist loadgroup, xdist appends "@<group>" to a grouped test's id: a waiver
    # naming the test must still cover it.
    made = Results()
    made.record(crash_report(sent, properties=[("requirement", MUST)]))
    assert list(made.tests) == [recorded]
    waiver = Waiver(MUST, "known", "team", datetime.date(2999, 1, 1), test=recorded)
    assert waiver.covers(made.tests[recorded].nodeid)
