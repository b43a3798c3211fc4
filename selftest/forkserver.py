"""Suite runs forked from a process that has already imported pytest, its plugins and the suite.

Every self-test and kill-matrix run is a new pytest process against a reference deployment, and before
its first test each one imports pytest, schemathesis, hypothesis and the suite: about 0.7 s of CPU, for
each of some four hundred runs. A fork server imports them once; a run is a fork of it that calls
pytest.main with the run's command line, environment and working directory, its output going to a file,
as `python -m pytest` from that directory would. Nothing a run does reaches the server or another run:
each is a process of its own, forked from the server's state before any run.

`run(...)` answers as subprocess.run would; `python -m selftest.forkserver` is the server, which reads
one request a line on stdin and answers each with its exit status on stdout once the run has ended.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

# The modules every run imports, imported once by the server (the suite's plugin brings the rest).
_PRELOADED = (
    "pytest",
    "_pytest.python",
    "_pytest.main",
    "xdist.plugin",
    "pytest_html.plugin",
    "hypothesis",
    "schemathesis",
    "ghippo_conformance.plugin",
    "ghippo_reference.server",
)
# What every run reads and keeps for the life of its process, read once by the server: the catalogue and
# the case tables, each validated against its schema (a fifth of a second of every run).
_WARMED = (("ghippo_conformance.verdict.catalogue", "load"), ("ghippo_conformance.checks.cases", "check_all"))
_REAP_EVERY_S = 0.02
_PYTEST_CRASHED = 3  # pytest's INTERNAL_ERROR


@dataclass(frozen=True)
class Completed:
    """What subprocess.run would have answered: the exit status and the output, stdout and stderr together."""

    returncode: int
    output: str


def run(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> Completed:
    """`python -m pytest ARGS` in `cwd` with `env`, forked from the fork server; raises
    subprocess.TimeoutExpired as subprocess.run does once `timeout` has passed (the run is killed)."""
    return _server().run(args, env, cwd, timeout)


class _Client:
    """The parent's side: one server per process, its requests sent from any thread."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "selftest.forkserver"],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the fork server did not start")
        self._numbers = itertools.count(1)
        self._waiting: dict[int, Future[int]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._read_answers, name="forkserver-answers", daemon=True).start()

    def run(self, args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Completed:
        with tempfile.TemporaryDirectory(prefix="ghippo-fork-") as scratch:
            output = Path(scratch) / "output"
            number = next(self._numbers)
            answer: Future[int] = Future()
            with self._lock:
                self._waiting[number] = answer
                self._send({"run": number, "args": args, "env": env, "cwd": str(cwd), "output": str(output)})
            try:
                returncode = answer.result(timeout)
            except FutureTimeout:
                with self._lock:
                    self._send({"kill": number})
                answer.result()
                raise subprocess.TimeoutExpired(["pytest", *args], timeout, output.read_bytes()) from None
            return Completed(returncode, output.read_text(encoding="utf-8", errors="replace"))

    def _send(self, request: dict) -> None:
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()

    def _read_answers(self) -> None:
        for line in self._process.stdout:
            answer = json.loads(line)
            with self._lock:
                waiting = self._waiting.pop(answer["run"])
            waiting.set_result(answer["returncode"])

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()


_client: _Client | None = None
_client_lock = threading.Lock()


def _server() -> _Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = _Client()
            atexit.register(_client.close)
        return _client


def _serve() -> None:
    """The server: preload, then fork a run for each request and answer with its exit status."""
    import importlib

    # As the gc module's documentation advises a server that forks without exec: what the server imported
    # goes to the permanent generation, so a run's collections never walk it (nor copy its pages).
    gc.disable()
    for module in _PRELOADED:
        importlib.import_module(module)
    for module, function in _WARMED:
        getattr(importlib.import_module(module), function)()
    gc.freeze()
    print("ready", flush=True)
    runs: dict[int, int] = {}  # pid -> request number
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    pending, open_input = b"", True
    while open_input or runs:
        if not open_input:
            time.sleep(_REAP_EVERY_S)
        elif selector.select(_REAP_EVERY_S):
            # Read the pipe itself: a buffered reader could hold a second request where select cannot see it.
            chunk = os.read(sys.stdin.fileno(), 1 << 16)
            open_input = bool(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                _handle(json.loads(line), runs)
            if not open_input:
                for pid in runs:
                    os.killpg(pid, signal.SIGTERM)
        _reap(runs)


def _handle(request: dict, runs: dict[int, int]) -> None:
    if "kill" in request:
        pid = next((pid for pid, number in runs.items() if number == request["kill"]), None)
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
        return
    pid = os.fork()
    if pid == 0:
        _run_in_child(request)
    runs[pid] = request["run"]


def _reap(runs: dict[int, int]) -> None:
    for pid in list(runs):
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            print(json.dumps({"run": runs.pop(pid), "returncode": os.waitstatus_to_exitcode(status)}), flush=True)


def _run_in_child(request: dict) -> None:
    """In the forked child: become the run (its own process group, output, directory, environment)."""
    gc.enable()
    os.setsid()  # the group the server kills on a timeout, the run's xdist workers with it
    output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["pytest", *request["args"]]
    returncode = _PYTEST_CRASHED
    try:
        import pytest

        returncode = int(pytest.main(request["args"]))
    except SystemExit as stop:
        returncode = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # whatever pytest itself did not catch, shown as a subprocess would show it
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(returncode)


if __name__ == "__main__":
    _serve()
