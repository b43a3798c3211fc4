"""The session-start check: a wrong target stops the run with one sentence and its own exit code."""

import http.server
import threading

import pytest

from ghippo_reference.server import start
from suite_runner import run_suite

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
    "nothing-listening": (lambda ref, site: ["--base-url", "http://127.0.0.1:9", "--ak", "a", "--sk", "b"],
                          UNREACHABLE, "cannot reach"),
    "https-to-plain-http": (lambda ref, site: ["--base-url", ref.base_url.replace("http:", "https:"), *pair(ref)],
                            TLS_FAILURE, "TLS handshake"),
    "wrong-path": (lambda ref, site: ["--base-url", ref.base_url + "/nope", *pair(ref)], NOT_GHIPPO,
                   "not a Ghippo API"),
    "html-page": (lambda ref, site: ["--base-url", site, *pair(ref)], NOT_GHIPPO, "not a Ghippo API"),
    "wrong-sk": (lambda ref, site: ["--base-url", ref.base_url, *pair(ref, sk="wrong")], CREDENTIALS_REFUSED,
                 "refused the AK/SK pair"),
    "no-credentials": (lambda ref, site: ["--base-url", ref.base_url], USAGE_ERROR, "pass --ak and --sk"),
    "unknown-profile": (lambda ref, site: ["--profile", "nosuch"], USAGE_ERROR, "is neither a built-in profile"),
    "access-key-profile-on-aksk": (lambda ref, site: ["--base-url", ref.base_url, "--profile", "dce5",
                                                      "--access-key", "x" * 40], CREDENTIALS_REFUSED,
                                   "refused the access key"),
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
