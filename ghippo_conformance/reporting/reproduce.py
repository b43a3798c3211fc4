"""How to reproduce a failure: the command that reruns just its requirement (or its test) against the
same target with the same seed and options, and the requests behind it as curl lines.

Secrets never appear: the commands read them from the GHIPPO_* variables the operator already holds,
and the curl lines (rendered where each request was sent, deployment/replay.py) refer to those variables.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghippo_conformance.deployment.http import DEFAULT_MAX_BODY_MIB, DEFAULT_REQUEST_TIMEOUT_S
from ghippo_conformance.deployment.profile import Section
from ghippo_conformance.deployment.replay import Replay
from ghippo_conformance.deployment.session import Target
from ghippo_conformance.deployment.settings import GENTLE_RPS, Settings, credential_variables, default_state_dir

BASE_URL_VARIABLE = "GHIPPO_BASE_URL"
# The session's bearer in the AK/SK flow, which the run obtained: the operator obtains one the same way.
TOKEN_VARIABLE = "GHIPPO_TOKEN"
# Each credential the operator gives, by the variable that holds it.
_CREDENTIAL_VARIABLES = credential_variables()
# How the installed suite is started; it selects tests by requirement, -k and -m, never by node id.
ENTRY_POINTS = ("ghippo-conformance", "ghippo_conformance")


def refer_secrets(target: Target) -> None:
    """Show the target's credentials, and the session's bearer, by their variables in every curl line."""
    for name, variable in _CREDENTIAL_VARIABLES:
        target.api.replay.refer(getattr(target.credentials, name), variable)
    target.api.replay.refer(target.bearer, TOKEN_VARIABLE)  # an access key keeps its own name


def invocation(config: pytest.Config) -> list[str]:
    """The command line the run was started with (an xdist worker's own is the worker bootstrap's)."""
    return list(getattr(config, "workerinput", {}).get("mainargv") or sys.argv)


def program(argv: Sequence[str]) -> str:
    """What the operator typed to start the run: pytest, python -m pytest, or the installed entry point."""
    started = Path(argv[0]) if argv else Path("pytest")
    if started.name == "__main__.py":
        return f"{Path(sys.executable).name} -m {started.parent.name}"
    return started.name if started.name in ENTRY_POINTS else "pytest"


@dataclass(frozen=True)
class Rerun:
    """Commands that rerun part of this run: same target, profile, seed and options, secrets from the environment."""

    settings: Settings
    program: str

    def requirement(self, requirement_id: str) -> str:
        return self._command(["--requirement", requirement_id])

    def test(self, nodeid: str) -> str | None:
        """The command for one test; None for a result that is no test (the run-end sweep) or when the
        entry point started the run (it takes no node ids)."""
        if "::" not in nodeid or self.program.split()[-1] in ENTRY_POINTS:
            return None
        return self._command([nodeid])

    def _command(self, selection: list[str]) -> str:
        settings = self.settings
        prefix = f"{BASE_URL_VARIABLE}={shlex.quote(settings.base_url)} " if settings.base_url else ""
        words = " ".join(shlex.quote(word) for word in [*selection, *self._options()])
        held = [variable for name, variable in _CREDENTIAL_VARIABLES if getattr(settings, name)]
        needs = f"  # with {' and '.join(held)} exported" if settings.base_url and held else ""
        return f"{prefix}{self.program} {words}{needs}"

    def _options(self) -> list[str]:
        """The options that change what the run sends or how it judges, as this run used them."""
        settings = self.settings
        words = ["--hypothesis-seed", str(settings.seed), "--profile", settings.profile]
        for override in settings.profile_overrides:
            words += ["--profile-set", override]
        if settings.verify is False:
            words.append("--insecure")
        elif isinstance(settings.verify, str):
            words += ["--ca-bundle", settings.verify]
        if settings.state_dir is None:
            words.append("--no-state")
        elif settings.state_dir != default_state_dir():
            words += ["--state-dir", str(settings.state_dir)]
        if settings.max_rps != (GENTLE_RPS if settings.base_url else None):
            words += ["--max-rps", f"{settings.max_rps or 0:g}"]
        if settings.request_timeout != DEFAULT_REQUEST_TIMEOUT_S:
            words += ["--request-timeout", f"{settings.request_timeout:g}"]
        if settings.max_body_mib != DEFAULT_MAX_BODY_MIB:
            words += ["--max-body-mib", str(settings.max_body_mib)]
        flags = (("--strict", settings.strict), ("--read-only", settings.read_only), ("--dry-run", settings.dry_run))
        return words + [flag for flag, given in flags if given]


def replay_setup(
    settings: Settings, base_url: str, profile: Section, embedded: bool, curl_lines: Sequence[str]
) -> list[str]:
    """Shell lines to run before `curl_lines`: for the embedded reference (gone with the run), how to
    start another; the session's bearer, where they send it, obtained as the run obtained it."""
    lines = []
    if not curl_lines:
        return lines
    if embedded:
        lines.append(
            f"# the embedded reference stopped with the run: `python -m ghippo_reference --flow {profile.flow}` "
            "starts another and prints its URL and credentials; export those as GHIPPO_AK and GHIPPO_SK (or "
            "GHIPPO_ACCESS_KEY) and put its URL in the lines below"
        )
    if any(f'"${TOKEN_VARIABLE}"' in line for line in curl_lines):
        tls = " ".join(shlex.quote(word) for word in Replay.for_verify(settings.verify).tls)
        token_url = shlex.quote(base_url + profile.paths.token)
        lines.append(
            f'export {TOKEN_VARIABLE}="$(curl -sS -G {tls + " " if tls else ""}{token_url} '
            '--data-urlencode "ak=$GHIPPO_AK" --data-urlencode "sk=$GHIPPO_SK" '
            '| python3 -c \'import json, sys; print(json.load(sys.stdin)["token"])\')"'
        )
    return lines


def instructions(rerun: Rerun, requirement_id: str, nodeid: str, setup: list[str]) -> str:
    """A failed test's "how to reproduce" section: the commands that rerun it, and what to set before
    sending its curl lines again (`setup`, empty when it shows none)."""
    lines = [f"rerun {requirement_id} alone: {rerun.requirement(requirement_id)}"]
    test = rerun.test(nodeid)
    if test:
        lines.append(f"rerun this test alone: {test}")
    if setup:
        lines += ["before sending its requests again with the curl lines above:", *(f"  {line}" for line in setup)]
    return "\n".join(lines)
