"""The session-start check: a wrong target stops the run with one sentence and its own exit code."""

import http.server
import json
import threading

import pytest

from ghippo_conformance import json_schemas
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start
from suite_runner import run_suite

pytestmark = pytest.mark.suite_run

UNREACHABLE, TLS_FAILURE, NOT_GHIPPO, CREDENTIALS_REFUSED, USAGE_ERROR = 10, 11, 12, 13, 4


@pytest.fixture(scope="module")
def reference():
    with start() as running:
        yield running


@pytest.fixture(scope="module")
def html_site():
    """A web server that answers every path with an HTML page, like a UI behind a wrong URL."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Welcome</body></html>")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def pair(reference, sk=None):
    return ["--ak", reference.credentials["ak"], "--sk", sk or reference.credentials["sk"]]


CASES = {
    "nothing-listening": (
        lambda ref, site: ["--base-url", "http://127.0.0.1:9", "--ak", "a", "--sk", "b"],
        UNREACHABLE,
        "cannot reach",
    ),
    "https-to-plain-http": (
        lambda ref, site: ["--base-url", ref.base_url.replace("http:", "https:"), *pair(ref)],
        TLS_FAILURE,
        "TLS handshake",
    ),
    "wrong-path": (
        lambda ref, site: ["--base-url", ref.base_url + "/nope", *pair(ref)],
        NOT_GHIPPO,
        "not a Ghippo API",
    ),
    "html-page": (lambda ref, site: ["--base-url", site, *pair(ref)], NOT_GHIPPO, "not a Ghippo API"),
    "wrong-sk": (
        lambda ref, site: ["--base-url", ref.base_url, *pair(ref, sk="wrong")],
        CREDENTIALS_REFUSED,
        "refused the AK/SK pair",
    ),
    "no-credentials": (lambda ref, site: ["--base-url", ref.base_url], USAGE_ERROR, "pass --ak and --sk"),
    "unknown-profile": (lambda ref, site: ["--profile", "nosuch"], USAGE_ERROR, "is neither a built-in profile"),
    "access-key-profile-on-aksk": (
        lambda ref, site: ["--base-url", ref.base_url, "--profile", "dce5", "--access-key", "x" * 40],
        CREDENTIALS_REFUSED,
        "refused the access key",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_target_stops_with_one_sentence(reference, html_site, case):
    args, exit_code, cause = CASES[case]
    run = run_suite(*args(reference, html_site))
    assert run.exit_code == exit_code, run.output
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert [line for line in lines if cause in line] and len(lines) == 1, run.output
    assert "Traceback" not in run.output


def test_credentials_never_reach_the_output(reference):
    run = run_suite("--base-url", reference.base_url, *pair(reference, sk="wrong-but-secret-sk"))
    assert "wrong-but-secret-sk" not in run.output


def test_a_stopped_run_still_writes_its_reports(reference, tmp_path):
    # A CI job reads the report whatever happened: a stop at session start is an incomplete run,
    # every requirement unjudged, the check's sentence as the reason, no credential in any file.
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    args = ["--conformance-report", str(report), "--summary-md", str(summary)]
    run = run_suite("--base-url", reference.base_url, *pair(reference, sk="wrong-but-secret-sk"), *args)
    assert run.exit_code == CREDENTIALS_REFUSED, run.output
    written = json.loads(report.read_text())
    assert not json_schemas.errors(written, "conformance-report"), json_schemas.errors(written, "conformance-report")
    assert written["verdict"] == "incomplete" and written["counts"]["skipped"] == len(written["requirements"])
    assert any("refused the AK/SK pair" in reason for reason in written["reasons"]), written["reasons"]
    assert "Ghippo conformance: incomplete" in summary.read_text()
    assert all("wrong-but-secret-sk" not in path.read_text() for path in (report, summary))


def run_with_report(behaviour: Behaviour, tmp_path, *args: str):
    """The suite against a reference with `behaviour`; the run and its JSON report (None if unwritten)."""
    report = tmp_path / "report.json"
    with start(behaviour) as running:
        run = run_suite(
            "--base-url", running.base_url, *pair(running), "--max-rps", "0", "--conformance-report", str(report), *args
        )
    return run, json.loads(report.read_text()) if report.is_file() else None


def requirement(report, requirement_id):
    return next(r for r in report["requirements"] if r["id"] == requirement_id)


def test_token_endpoint_without_a_usable_token_is_a_verdict_not_refused_credentials(tmp_path):
    run, report = run_with_report(Behaviour(token_response_field="access_token"), tmp_path)
    assert run.exit_code == 1 and report is not None, run.output
    assert report["verdict"] == "fail", run.output
    issue = requirement(report, "TOKEN-ISSUE")
    assert issue["outcome"] == "failed", issue
    assert any('"access_token"' in test["evidence"] for test in issue["tests"]), issue
    assert any("gave no usable token" in reason for reason in report["reasons"]), report["reasons"]
    assert requirement(report, "KEY-CREATE")["reason"].startswith("no usable bearer"), requirement(report, "KEY-CREATE")


def test_token_the_api_refuses_fails_token_usable(tmp_path):
    run, report = run_with_report(Behaviour(issued_tokens_refused=True), tmp_path, "-n", "2")
    assert run.exit_code == 1 and report is not None, run.output
    assert requirement(report, "TOKEN-USABLE")["outcome"] == "failed", requirement(report, "TOKEN-USABLE")
    assert any("refused the token it issued" in reason for reason in report["reasons"]), report["reasons"]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "parallel"])
def test_token_path_of_the_documentation_text_is_found_and_named(tmp_path, workers):
    run, report = run_with_report(Behaviour(token_routes="text-path-only"), tmp_path, *workers)
    assert run.exit_code == 0 and report["verdict"] == "pass", run.output
    assert report["profile"]["paths"]["token"] == "/api/v1/cube/key/token", report["profile"]
    assert "the run uses the other documented path /api/v1/cube/key/token" in run.output, run.output
