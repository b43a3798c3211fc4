"""The release gate's rules, on hand-made results: verdicts, coverage, crashes, waivers, baselines,
exit statuses, redaction."""

import datetime

import httpx
import pytest

from ghippo_conformance import paths, run_end
from ghippo_conformance.deployment.http import BodyTooLarge
from ghippo_conformance.deployment.redact import Redactor
from ghippo_conformance.run_end import INCOMPLETE, PARTIAL, STOPPED_ANSWERING, SUITE_CRASHED
from ghippo_conformance.verdict import catalogue, failures, gate, waivers
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
        pytest.param(MUST, "skipped", {}, "partial", id="skipped-must"),
        pytest.param(MUST, "skipped", {"certify": True}, "fail", id="skipped-must-certify"),
        pytest.param(MUST, "pending", {}, "partial", id="pending-must"),
        pytest.param(MUST, "pending", {"certify": True}, "fail", id="pending-must-certify"),
        pytest.param(SHOULD, "skipped", {}, "pass", id="skipped-should"),
        pytest.param(SHOULD, "skipped", {"strict": True}, "partial", id="skipped-should-strict"),
        pytest.param(MUST, "error", {}, "incomplete", id="crashed-must"),
        pytest.param(SHOULD, "error", {}, "incomplete", id="crashed-should"),
        pytest.param(MUST, "error", {"certify": True}, "incomplete", id="crashed-must-certify"),
        pytest.param(MUST, "not-applicable", {"certify": True}, "pass", id="not-applicable-must-certify"),
    ],
)
def test_verdict_follows_level_and_options(requirement, outcome, options, verdict):
    made = results((requirement, "t::x", outcome))
    if outcome == "error":
        made.crashes.append("t::x: TypeError: boom")
    assert conclude(made, **options).verdict == verdict


def test_partial_run_lists_each_unjudged_must_with_why_and_a_failure_still_fails():
    made = results(("TOKEN-ISSUE", "t::1", "skipped"), ("TOKEN-CYCLE", "t::2", "pending"))
    partial = conclude(made)
    assert partial.verdict == "partial"
    assert [(e.requirement.id, e.outcome, e.reason) for e in partial.unchecked] == [
        ("TOKEN-ISSUE", "skipped", "skipped here"),
        ("TOKEN-CYCLE", "pending", "pending here"),
    ]
    made.tests["t::3"] = TestResult("t::3", "TOKEN-CLAIMS", "failed", reason="failed here")
    failing = conclude(made)
    assert failing.verdict == "fail" and [e.requirement.id for e in failing.unchecked] == ["TOKEN-ISSUE", "TOKEN-CYCLE"]


def test_a_requirement_passes_only_when_every_test_that_applies_passed():
    made = results(("TOKEN-ISSUE", "t::1", "passed"), ("TOKEN-ISSUE", "t::2", "skipped"))
    made.tests["t::3"] = TestResult("t::3", "TOKEN-ISSUE", "not-applicable")
    entry = conclude(made).table["TOKEN-ISSUE"]
    assert (entry.outcome, entry.reason) == ("skipped", "skipped here (1 of its 2 tests passed)")


def test_tests_the_command_line_did_not_name_make_the_run_partial():
    made = results()
    made.not_collected_because = "the command line named only some of the suite's tests (suites/test_token.py)"
    assert conclude(made).verdict == "partial"
    assert conclude(made, certify=True).verdict == "fail"


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


def test_worker_crash_after_setup_is_a_crash_of_the_requirement_its_setup_named():
    # xdist's report of a dead worker carries no properties: nothing says the deployment failed.
    made = results()
    made.record(crash_report("t::crashed", "setup", "passed", [("requirement", MUST)]))
    made.record(crash_report("t::crashed"))
    conclusion = conclude(made)
    assert conclusion.table[MUST].outcome == "error"
    assert conclusion.verdict == "incomplete" and "the suite crashed in 1 test phase(s)" in conclusion.reasons[0]


def test_crash_no_requirement_accounts_for_makes_the_run_incomplete():
    made = results()
    made.record(crash_report("t::crashed-in-setup", "setup"))
    conclusion = conclude(made)
    assert all(entry.outcome == "passed" for entry in conclusion.table.values())
    assert conclusion.verdict == "incomplete"
    assert conclusion.reasons == [
        "the suite crashed in 1 test phase(s), first t::crashed-in-setup: worker 'gw0' crashed while running "
        "'t::crashed-in-setup': a bug of the suite, not a verdict on the deployment; please report it with the "
        "traceback the report shows"
    ]


@pytest.mark.parametrize(
    ("phases", "outcome"),
    [
        pytest.param([("call", "suite")], "error", id="crash"),
        pytest.param([("call", "deployment")], "failed", id="failure"),
        pytest.param([("call", "deployment"), ("teardown", "suite")], "failed", id="failure-then-crash"),
        pytest.param([("setup", "suite"), ("teardown", "deployment")], "failed", id="crash-then-failure"),
    ],
)
def test_a_genuine_failure_outranks_a_crash_and_every_crash_is_counted(phases, outcome):
    made = Results()
    for when, whose in phases:
        made.record(crash_report("t::x", when, properties=[("requirement", MUST), ("failure_of", whose)]))
    assert made.tests["t::x"].outcome == outcome
    assert len(made.crashes) == sum(whose == "suite" for _, whose in phases)


@pytest.mark.parametrize(
    ("error", "of_deployment"),
    [
        pytest.param(AssertionError("expected 401, got 200"), True, id="expect"),
        pytest.param(httpx.ReadTimeout("no answer"), True, id="transport"),
        pytest.param(BodyTooLarge("body larger than 8 MiB"), True, id="body-too-large"),
        pytest.param(AttributeError("'list' object has no attribute 'get'"), False, id="attribute-error"),
        pytest.param(KeyError("kid"), False, id="key-error"),
        pytest.param(TypeError("unhashable type"), False, id="type-error"),
        pytest.param(ExceptionGroup("two", [AssertionError("a"), AssertionError("b")]), True, id="group-of-failures"),
        pytest.param(ExceptionGroup("two", [AssertionError("a"), KeyError("b")]), False, id="group-with-a-crash"),
    ],
)
def test_whose_failure_an_exception_is(error, of_deployment):
    assert failures.of_deployment(error) is of_deployment


def test_schemathesis_response_check_failures_are_the_deployments():
    from schemathesis.core.failures import Failure, FailureGroup

    failure = Failure(operation="GET /x", title="Response violates schema", message="wrong type")
    assert failures.of_deployment(FailureGroup([failure], "Response violates schema"))


@pytest.mark.parametrize(
    ("verdict", "stopped_answering", "crashed", "status", "expected"),
    [
        ("pass", False, False, 0, 0),
        ("fail", False, True, 1, 1),
        ("partial", False, False, 0, PARTIAL),
        ("incomplete", True, True, 1, STOPPED_ANSWERING),
        ("incomplete", False, True, 1, SUITE_CRASHED),
        ("incomplete", False, False, 2, INCOMPLETE),
        ("incomplete", False, False, 4, 4),
    ],
)
def test_exit_status_follows_the_verdict(verdict, stopped_answering, crashed, status, expected):
    made = Results(crashes=["t::x: TypeError: boom"] if crashed else [])
    conclusion = gate.Conclusion({}, [], None, verdict, [], [])
    aftermath = gate.Aftermath(stopped_answering=stopped_answering)
    assert run_end._exit_status(conclusion, aftermath, made, status) == expected


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


def test_a_run_whose_every_test_was_left_out_ran_nothing():
    made = Results()
    made.deselect("t::x", MUST, "skipped", "deselected by -k nothing")
    assert not made.ran and made.tests["t::x"].outcome == "skipped"
    made.record(crash_report("t::y", "call", "passed", [("requirement", MUST)]))
    assert made.ran
