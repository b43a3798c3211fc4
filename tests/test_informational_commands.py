"""pytest's commands that show something (markers, fixtures, the collected tests, the plan of a run)
contact no deployment and start no reference: the base URL they are given is a socket of the test's
own, which counts the connections it was offered."""

import json
import socket
from collections.abc import Iterator

import pytest

from suite_runner import run_suite

pytestmark = pytest.mark.suite_run

INCOMPLETE = 15  # --collect-only runs no test
KEY_PAIR = {"GHIPPO_AK": "a" * 36, "GHIPPO_SK": "s" * 36}


class CountingSocket:
    """A listening socket nobody answers on: a connection attempt waits in its queue, where `offered` finds it."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def offered(self) -> int:
        self._socket.setblocking(False)
        count = 0
        while True:
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def deployment() -> Iterator[CountingSocket]:
    counting = CountingSocket()
    yield counting
    counting.close()


@pytest.mark.parametrize(
    ("command", "exit_code", "shown"),
    [
        pytest.param(["--markers"], 0, "@pytest.mark.requirement(id)", id="markers"),
        pytest.param(["--fixtures"], 0, "key_ledger", id="fixtures"),
        pytest.param(["--fixtures-per-test", "-k", "test_errors"], 0, "fixtures used by test_", id="fixtures-per-test"),
        pytest.param(["--setup-plan", "-k", "test_errors"], 0, "SETUP", id="setup-plan"),
        pytest.param(["--collect-only", "-q"], INCOMPLETE, "verdict: incomplete", id="collect-only"),
    ],
)
def test_an_informational_command_contacts_no_deployment(deployment, command, exit_code, shown):
    run = run_suite(*command, "--request-timeout", "2", env={"GHIPPO_BASE_URL": deployment.base_url, **KEY_PAIR})
    assert deployment.offered() == 0, f"{' '.join(command)} connected to the deployment\n{run.output[-3000:]}"
    assert run.exit_code == exit_code, run.output[-3000:]
    assert shown in run.output and "Traceback" not in run.output, run.output[-3000:]


def test_collecting_without_a_base_url_starts_no_reference(tmp_path):
    report = tmp_path / "report.json"
    run = run_suite("--collect-only", "-q", "--conformance-report", str(report))
    assert run.exit_code == INCOMPLETE, run.output[-3000:]
    assert "only collected: the embedded reference was not started" in run.output, run.output[-3000:]
    written = json.loads(report.read_text())
    assert written["verdict"] == "incomplete" and written["target"]["embedded_reference"], written["target"]
