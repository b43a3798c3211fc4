"""The reports and the release gate, end to end: the suite runs in a subprocess against a reference
started here, under a profile that makes exactly one requirement fail (TOKEN-DEFAULT-EXPIRY)."""

import datetime
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest

from ghippo_conformance import json_schemas
from ghippo_conformance.deployment.redact import mask as mask_of
from ghippo_conformance.verdict import catalogue
from ghippo_reference.server import start
from ghippo_reference.signing import signing_key
from suite_runner import run_suite

FAILING = "TOKEN-DEFAULT-EXPIRY"
# The reference issues 3-day tokens: a profile expecting 1 s makes this one requirement fail.
EXPECT_ONE_SECOND = ("--profile-set", "token.default_lifetime_s=1")
# The gate's runs need only the failing requirement's module, and finish a second sooner for it (a run
# so selected is partial at best: the tests that need a pass run the whole suite).
TOKEN_TESTS_ONLY = ("-k", "test_token")
USAGE_ERROR = 4
TODAY = datetime.datetime.now(datetime.UTC).date()
JWT_SHAPED = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+=*")


@dataclass(frozen=True)
class Outputs:
    exit_code: int
    output: str  # stdout and stderr
    directory: Path  # every file the run wrote

    def report(self) -> dict:
        return json.loads((self.directory / "report.json").read_text())

    def entry(self, requirement_id: str) -> dict:
        return next(r for r in self.report()["requirements"] if r["id"] == requirement_id)


@pytest.fixture(scope="module")
def reference():
    with start() as running:
        yield running


def run_against(reference, directory: Path, *args) -> Outputs:
    """The suite against `reference`, with its credentials in the environment (off the command
    line, as CI passes them) and the JSON report written into `directory`."""
    credentials = {"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]}
    run = run_suite(
        "--base-url",
        reference.base_url,
        "--max-rps",
        "0",
        *EXPECT_ONE_SECOND,
        "--conformance-report",
        str(directory / "report.json"),
        *args,
        env=credentials,
    )
    return Outputs(run.exit_code, run.output, directory)


def waiver_file(directory: Path, *waivers: dict) -> Path:
    path = directory / "waivers.toml"
    path.write_text(
        "".join(
            "[[waiver]]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in waiver.items())
            for waiver in waivers
        )
    )
    return path


def waiver(requirement: str, *, expires: datetime.date, **extra) -> dict:
    return {
        "requirement": requirement,
        "reason": "known, fix scheduled",
        "owner": "release-team",
        "expires": expires.isoformat(),
        **extra,
    }


@pytest.fixture(scope="module")
def failing_run(reference, tmp_path_factory) -> Outputs:
    out = tmp_path_factory.mktemp("failing")
    return run_against(
        reference,
        out,
        "--junitxml",
        str(out / "junit.xml"),
        "--html",
        str(out / "report.html"),
        "--summary-md",
        str(out / "summary.md"),
        "--hypothesis-seed",
        "42",
    )


@pytest.mark.suite_run
def test_failing_must_exits_1_and_ends_with_the_verdict(failing_run):
    assert failing_run.exit_code == 1, failing_run.output
    verdict_block = failing_run.output.partition("conformance verdict")[2]
    assert "verdict: fail" in verdict_block
    assert f"failed: {FAILING} (MUST)" in verdict_block


@pytest.mark.suite_run
def test_json_report_validates_and_shows_the_failure_with_evidence(failing_run):
    report = failing_run.report()
    assert json_schemas.errors(report, "conformance-report") == []
    assert [r["id"] for r in report["requirements"]] == list(catalogue.load().requirements)
    assert report["verdict"] == "fail" and report["reasons"][0].startswith(f"MUST {FAILING} failed")
    assert report["profile"]["token"]["default_lifetime_s"] == 1 and report["seed"] == 42
    failed = failing_run.entry(FAILING)
    assert failed["outcome"] == "failed"
    evidence = failed["tests"][0]["evidence"]
    assert "expected exp - iat = 1 s, got 259200 s" in evidence
    assert "sent: GET" in evidence and "got:  200" in evidence


@pytest.mark.suite_run
def test_markdown_summary_names_the_failure(failing_run):
    summary = (failing_run.directory / "summary.md").read_text()
    assert summary.startswith("## ❌ Ghippo conformance: fail")
    report = failing_run.report()
    assert f"Profile {report['profile']['name']} ({report['profile_reason']}) against" in summary, summary[:500]
    assert f"| `{FAILING}` | MUST | ❌ failed | `expected exp - iat = 1 s, got 259200 s` |" in summary


@pytest.mark.suite_run
def test_html_report_is_self_contained_and_names_the_failure(failing_run):
    page = (failing_run.directory / "report.html").read_text()
    assert not (failing_run.directory / "assets").exists() and "<link href" not in page
    assert f'<tr class="requirement outcome-failed" id="requirement-{FAILING}">' in page
    assert "<details open><summary>1 test, evidence and how to reproduce</summary>" in page


@pytest.mark.suite_run
def test_junit_carries_requirement_and_level_of_each_test(failing_run):
    cases = ET.parse(failing_run.directory / "junit.xml").getroot().iter("testcase")
    properties = {
        case.get("name"): ({p.get("name"): p.get("value") for p in case.iter("property")}, case.find("failure"))
        for case in cases
    }
    assert all("requirement" in props and "level" in props for props, _ in properties.values())
    props, failure = properties["test_token_lives_default_lifetime"]
    assert props == {
        "requirement": FAILING,
        "level": "MUST",
        "failure_of": "deployment",  # not a crash of the suite
        "rerun": failing_run.entry(FAILING)["rerun"],
    }
    assert failure is not None


def issued_token(reference) -> str:
    pair = {"ak": reference.credentials["ak"], "sk": reference.credentials["sk"]}
    return httpx.get(f"{reference.base_url}/apis/ghippo.io/v1alpha1/token", params=pair).json()["token"]


def valid_tokens(text: str) -> list[str]:
    """JWTs in `text` signed with the reference's key: bearers that would still be accepted."""
    public_key = signing_key().private_key.public_key()
    valid = []
    for candidate in JWT_SHAPED.findall(text):
        try:
            jwt.decode(candidate, public_key, algorithms=["RS256"], options={"verify_exp": False})
        except jwt.PyJWTError:
            continue
        valid.append(candidate)
    return valid


@pytest.mark.suite_run
def test_no_secret_in_any_output(failing_run, reference):
    written = {path.name: path.read_text() for path in failing_run.directory.iterdir()}
    assert set(written) == {"report.json", "junit.xml", "report.html", "summary.md"}
    # The failure's evidence shows the token request, whose URL carries the SK, and the token
    # response: both were at risk.
    assert "sk=" + mask_of(reference.credentials["sk"]) in written["report.json"]
    # Every token the reference signs starts with this segment; the bearers of the run (whole, or
    # cut short by pytest's reprs and the evidence's body limit) must not show it.
    signed_header = issued_token(reference).partition(".")[0]
    for name, text in {**written, "console": failing_run.output}.items():
        assert reference.credentials["sk"] not in text, name
        assert valid_tokens(text) == [], name
        assert signed_header not in text, name


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install -y chromium): the HTML matrix was not rendered"
        )
    return found


@pytest.mark.suite_run
def test_html_matrix_renders_one_row_per_requirement_in_chromium(failing_run, tmp_path):
    dom = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path}",
            "--dump-dom",
            (failing_run.directory / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = re.findall(r'<tr class="requirement outcome-([a-z-]+)" id="requirement-([A-Z0-9-]+)"', dom)
    # The failed requirement first, then the rest in catalogue order.
    assert rows[0] == ("failed", FAILING)
    assert [requirement_id for _, requirement_id in rows[1:]] == [
        requirement_id for requirement_id in catalogue.load().requirements if requirement_id != FAILING
    ]
    # pytest-html's script built its results table from the page's data: the page ran, not only parsed.
    assert '<td class="col-testId">suites/test_token.py::test_token_lives_default_lifetime</td>' in dom


@pytest.mark.suite_run
def test_waiver_turns_the_failing_run_green(reference, tmp_path):
    # The whole suite: a run of the token tests alone is partial whatever the waivers say.
    waivers = waiver_file(tmp_path, waiver(FAILING, expires=TODAY))
    run = run_against(reference, tmp_path, "--waivers", str(waivers))
    assert run.exit_code == 0 and run.report()["verdict"] == "pass", run.output
    assert run.entry(FAILING)["outcome"] == "waived"
    assert run.report()["waivers"][0]["status"] == "applied"
    assert f"waivers applied: {FAILING} (owner release-team, until {TODAY})" in run.output


@pytest.mark.suite_run
def test_expired_waiver_fails_the_run_saying_to_remove_it(reference, tmp_path):
    yesterday = TODAY - datetime.timedelta(days=1)
    waivers = waiver_file(tmp_path, waiver(FAILING, expires=yesterday))
    run = run_against(reference, tmp_path, *TOKEN_TESTS_ONLY, "--waivers", str(waivers))
    assert run.exit_code == 1, run.output
    assert run.entry(FAILING)["outcome"] == "failed"
    assert f"the waiver for {FAILING} (owner release-team) expired on {yesterday}: remove it from" in run.output


@pytest.mark.suite_run
def test_stale_waiver_fails_the_run_saying_to_remove_it(reference, tmp_path):
    waivers = waiver_file(tmp_path, waiver(FAILING, expires=TODAY), waiver("TOKEN-ISSUE", expires=TODAY))
    run = run_against(reference, tmp_path, *TOKEN_TESTS_ONLY, "--waivers", str(waivers))
    assert run.exit_code == 1, run.output
    assert run.report()["reasons"] == [
        f"the waiver for TOKEN-ISSUE (owner release-team) is stale: it passes now; remove the waiver from {waivers}"
    ]


def baseline_file(failing_run, directory: Path, *, failing_outcome: str) -> Path:
    """The failing run's report, with the failing requirement given `failing_outcome`."""
    report = failing_run.report()
    for entry in report["requirements"]:
        if entry["id"] == FAILING:
            entry["outcome"] = failing_outcome
    path = directory / "baseline.json"
    path.write_text(json.dumps(report))
    return path


@pytest.mark.suite_run
@pytest.mark.parametrize(
    "before, regressions, unchanged",
    [
        pytest.param("passed", [FAILING], [], id="passed-before-is-a-regression"),
        pytest.param("failed", [], [FAILING], id="failed-before-is-unchanged"),
    ],
)
def test_baseline_tells_a_regression_from_a_known_failure(
    failing_run, reference, tmp_path, before, regressions, unchanged
):
    baseline = baseline_file(failing_run, tmp_path, failing_outcome=before)
    run = run_against(
        reference,
        tmp_path,
        *TOKEN_TESTS_ONLY,
        "--baseline",
        str(baseline),
        "--summary-md",
        str(tmp_path / "summary.md"),
    )
    assert run.exit_code == 1, run.output  # a MUST failed either way
    report = run.report()
    compared = report["baseline"]
    assert (compared["regressions"], compared["unchanged_failures"]) == (regressions, unchanged)
    assert [r for r in report["reasons"] if "regressed" in r] == [
        f"{FAILING} regressed: it passed in the baseline {baseline} and fails now" for _ in regressions
    ]
    assert f"regressions: {', '.join(regressions) or 'none'}" in run.output
    summary = (tmp_path / "summary.md").read_text()
    assert f"**Regressions** ({len(regressions)})" in summary
    assert f"**Unchanged failures** ({len(unchanged)})" in summary


@pytest.mark.suite_run
@pytest.mark.parametrize(
    "option, content, complaint",
    [
        pytest.param(
            "--waivers",
            '[[waiver]]\nrequirement = "TOKEN-ISSUE"\nreason = "r"\nexpires = 2030-01-01\n',
            "waiver file {path} is invalid ($.waiver[0]: 'owner' is a required property)",
            id="waiver-file",
        ),
        pytest.param(
            "--baseline",
            '{"requirements": []}',
            "baseline {path} is not a conformance report of this suite",
            id="baseline",
        ),
    ],
)
def test_unusable_file_is_a_usage_error_before_any_test_runs(tmp_path, option, content, complaint):
    path = tmp_path / "given"
    path.write_text(content)
    run = run_suite(option, str(path))
    assert run.exit_code == USAGE_ERROR, run.output
    assert complaint.format(path=path) in run.output


@pytest.mark.parametrize(
    "sent",
    [
        "a | b",
        "uses `code` here",
        "line one\nline two",
        '<img src="https://x/y.png">',
        "[click](https://evil)",
        "``double`` and `",
        "\x1b[31mred\x1b[0m",
    ],
)
def test_markdown_shows_deployment_text_as_code(sent):
    from ghippo_conformance.reporting.markdown import _code

    shown = _code(sent)
    fence = re.match("`+", shown).group(0)
    inner = shown[len(fence) : -len(fence)]
    assert shown.endswith(fence) and "\n" not in shown and "\x1b" not in shown
    assert fence not in inner, "a run of backticks inside as long as the fence would close the code span"
    assert "|" not in inner.replace("\\|", ""), "an unescaped | would split the table cell"
