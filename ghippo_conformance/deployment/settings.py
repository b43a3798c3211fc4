"""The suite's command-line options, each with an environment fallback so secrets stay off
command lines. Precedence: command line, then environment, then the default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ghippo_conformance.deployment.http import DEFAULT_MAX_BODY_MIB, DEFAULT_REQUEST_TIMEOUT_S
from ghippo_conformance.deployment.profile import DEFAULT_PROFILE


def default_state_dir() -> Path:
    """Beside the hypothesis cache (checks/generated.py): the user's cache folder, never the working directory."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ghippo-conformance" / "state"


# Gentle enough not to trip a deployment's own rate limiting from one process.
GENTLE_RPS = 20.0

# (option, environment variable, help); secrets come first so nobody has to type them.
_STRING_OPTIONS = [
    ("--base-url", "GHIPPO_BASE_URL", "the deployment; absent: start the embedded reference"),
    (
        "--profile",
        "GHIPPO_PROFILE",
        "built-in profile name or profile file (default: the credentials choose, dce5 for an access key, "
        "dce5-aksk for an AK/SK pair)",
    ),
    ("--ak", "GHIPPO_AK", "AK of a pre-provisioned key pair (AK/SK flow)"),
    ("--sk", "GHIPPO_SK", "SK of a pre-provisioned key pair (AK/SK flow)"),
    ("--access-key", "GHIPPO_ACCESS_KEY", "a pre-provisioned access key (access-key flow)"),
    ("--ca-bundle", "GHIPPO_CA_BUNDLE", "CA bundle to verify the deployment's certificate"),
    (
        "--state-dir",
        "GHIPPO_STATE_DIR",
        "where a run keeps the short-lived tokens a later run checks for expiry (AUTH-EXPIRED-OWN); keep it "
        f"between CI runs (default {default_state_dir()})",
    ),
]

# The options that carry credentials, which belong to the deployment --base-url names.
_CREDENTIALS = ("--ak", "--sk", "--access-key")


def credential_variables() -> tuple[tuple[str, str], ...]:
    """Each credential, by its Settings attribute ("sk"), with the environment variable that holds it."""
    return tuple(
        (flag.removeprefix("--").replace("-", "_"), env) for flag, env, _ in _STRING_OPTIONS if flag in _CREDENTIALS
    )


# The profile each kind of credentials selects when no profile is named.
_PROFILE_FOR_ACCESS_KEY = "dce5"
_PROFILE_FOR_KEY_PAIR = "dce5-aksk"


@dataclass(frozen=True)
class Settings:
    base_url: str | None
    profile: str
    # Why this profile: named by an option or variable, chosen by the credentials, or the default.
    profile_reason: str
    profile_overrides: list[str]
    ak: str | None
    sk: str | None
    access_key: str | None
    verify: bool | str
    request_timeout: float
    max_body_mib: int
    max_rps: float | None
    conformance_report: str | None
    summary_md: str | None
    waivers: str | None
    baseline: str | None
    strict: bool
    certify: bool
    read_only: bool
    dry_run: bool
    cleanup: bool
    # Where tokens are kept for a later run's expiry check; None with --no-state.
    state_dir: Path | None
    # The clock key of a reference deployment started elsewhere (ghippo_reference.server.CLOCK_HEADER).
    reference_clock: str | None
    # The requirement IDs whose tests run (--requirement); empty: every requirement's.
    requirements: tuple[str, ...]
    # pytest's and its plugins' options the suite reads, resolved here like its own
    seed: int | str
    collect_only: bool
    setup_only: bool
    html_path: str | None
    junit_path: str | None


# The suite's own section of pytest's --help.
OPTION_GROUP = "ghippo"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(OPTION_GROUP, "Ghippo access-key API conformance")
    for flag, env, text in _STRING_OPTIONS:
        group.addoption(flag, default=None, help=f"{text} [env {env}]")
    group.addoption(
        "--profile-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one profile value, e.g. paths.token=/api/v1/cube/key/token",
    )
    group.addoption("--insecure", action="store_true", help="do not verify TLS certificates")
    group.addoption(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT_S,
        metavar="S",
        help=f"per-request timeout in seconds (default {DEFAULT_REQUEST_TIMEOUT_S:g})",
    )
    group.addoption(
        "--max-body-mib",
        type=int,
        default=DEFAULT_MAX_BODY_MIB,
        metavar="N",
        help=f"read at most N MiB of a response body, counted after decompression; a longer "
        f"body fails the check that asked for it (default {DEFAULT_MAX_BODY_MIB})",
    )
    group.addoption(
        "--max-rps",
        type=float,
        default=None,
        metavar="N",
        help=f"at most N requests per second per process, 0 for no limit (default "
        f"{GENTLE_RPS:g} against --base-url, none against the embedded reference)",
    )
    group.addoption(
        "--conformance-report", default=None, metavar="PATH", help="write the JSON conformance report to PATH"
    )
    group.addoption(
        "--summary-md",
        default=None,
        metavar="PATH",
        help="write the requirement matrix as Markdown to PATH (a CI job summary)",
    )
    group.addoption(
        "--waivers",
        default=None,
        metavar="FILE",
        help="TOML file of waived failures, each with a reason, an owner and an expiry",
    )
    group.addoption(
        "--baseline",
        default=None,
        metavar="PREVIOUS.json",
        help="an earlier conformance report: a requirement that passed there and fails now fails the run",
    )
    group.addoption(
        "--certify", action="store_true", help="certification run: a skipped or waived MUST fails the run too"
    )
    group.addoption(
        "--read-only", action="store_true", help="leave out every test that creates, changes or deletes anything"
    )
    group.addoption(
        "--dry-run",
        action="store_true",
        help="send nothing to the deployment: run against the embedded reference and list "
        "every state-changing request the run would make",
    )
    group.addoption(
        "--cleanup",
        action="store_true",
        help="delete the keys earlier interrupted runs left behind (by their name), list them, and run no test",
    )
    group.addoption(
        "--no-state",
        action="store_true",
        help="record no token for a later run's expiry check and check none (overrides --state-dir)",
    )
    # --strict is pytest's own flag (strict markers and config); the suite reads it too: with it,
    # a failed SHOULD also fails the run.
    _add_coverage_options(group)


def _add_coverage_options(group) -> None:
    """What the run judges: by requirement, and (against a reference) in one run what needs days."""
    group.addoption(
        "--requirement",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="run only the tests of these requirements (repeatable); the verdict is partial unless they are all",
    )
    group.addoption(
        "--list-requirements",
        action="store_true",
        help="print the requirement catalogue (ID, level, area, statement, source) and contact nothing",
    )
    group.addoption(
        "--reference-clock",
        default=None,
        metavar="KEY",
        help="the clock key of a reference deployment started elsewhere (python -m ghippo_reference prints it): "
        "AUTH-EXPIRED-OWN is then judged in one run by moving that deployment's clock; never needed against "
        "a real deployment [env GHIPPO_REFERENCE_CLOCK]",
    )


def _seed(config: pytest.Config) -> int | str:
    """The seed of the generated checks. They must be reproducible, so a run given none picks one
    and hands it to hypothesis (whose plugin reads it after this), and the report names it."""
    if config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = secrets.randbelow(2**32)
    given = config.getoption("hypothesis_seed")
    try:
        return int(given)  # --hypothesis-seed arrives as text, an integer when it parses
    except ValueError:
        return str(given)


def _max_body_mib(config: pytest.Config) -> int:
    mib = config.getoption("max_body_mib")
    if mib < 1:
        raise pytest.UsageError(f"--max-body-mib {mib}: a body cap must be at least 1 MiB")
    return mib


def _given(config: pytest.Config, flag: str, env: str) -> tuple[str | None, str | None]:
    """An option's value and where it came from (the flag or the environment variable), or (None, None).
    A value that is there but empty (or blank) comes back as it is: `_values` refuses it."""
    from_flag = config.getoption(flag.lstrip("-").replace("-", "_"))
    if from_flag is not None:
        return from_flag, flag
    from_env = os.environ.get(env)
    return (from_env, env) if from_env is not None else (None, None)


def _in_words(names: list[str]) -> str:
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def _blank_values(blank: list[str]) -> str:
    """The usage error for options given an empty value and variables set but empty. Either is what a
    CI system passes for a secret nobody configured; read as "not given", the run would quietly test
    something else than the one named (the embedded reference instead of the deployment)."""
    variables = [source for source in blank if not source.startswith("-")]
    options = [source for source in blank if source.startswith("-")]
    found = []
    if variables:
        found.append(
            f"{_in_words(variables)} {'is' if len(variables) == 1 else 'are'} set but empty (what a CI system "
            "passes for a secret nobody configured)"
        )
    if options:
        found.append(f"{_in_words(options)} {'is' if len(options) == 1 else 'are'} given an empty value")
    remove = "unset it" if not options else "leave it out"
    return f"{'; '.join(found)}: give {'it' if len(blank) == 1 else 'each'} a value, or {remove}"


def _values(config: pytest.Config) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Each string option's value and its source (flag or variable), by flag; None for neither.

    One rule for all of them: empty or blank is a usage error, never "not given"."""
    found = {flag: _given(config, flag, env) for flag, env, _ in _STRING_OPTIONS}
    blank = [source for value, source in found.values() if value is not None and not value.strip()]
    if blank:
        raise pytest.UsageError(_blank_values(blank))
    return {flag: value for flag, (value, _) in found.items()}, {flag: source for flag, (_, source) in found.items()}


def _require_base_url_for_credentials(given: dict[str, str | None], sources: dict[str, str | None]) -> None:
    """Credentials name a deployment: without its base URL the run would test the embedded reference
    in its stead and could pass. A dry run is held to this too: it rehearses the command it is given,
    which would stop here without --dry-run."""
    if given["--base-url"]:
        return
    named = [sources[flag] for flag in _CREDENTIALS if sources[flag]]
    if named:
        raise pytest.UsageError(
            f"{_in_words(named)} {'names' if len(named) == 1 else 'name'} credentials of a deployment, but no "
            "base URL is given (--base-url or GHIPPO_BASE_URL), and without one the suite tests its embedded "
            "reference instead: give the deployment's base URL, or leave the credentials out"
        )


def _profile_and_reason(sources: dict[str, str | None], given: dict[str, str | None], dry_run: bool) -> tuple[str, str]:
    """The profile named, else the one the credentials select, else the default for the embedded reference."""
    if given["--profile"]:
        return given["--profile"], f"named by {sources['--profile']}"
    access_key = sources["--access-key"]
    key_pair = " and ".join(filter(None, (sources["--ak"], sources["--sk"])))
    if access_key and key_pair:
        raise pytest.UsageError(
            f"both an access key ({access_key}) and an AK/SK pair ({key_pair}) are given: name the flow with "
            f"--profile {_PROFILE_FOR_ACCESS_KEY} (access keys) or --profile {_PROFILE_FOR_KEY_PAIR} (AK/SK pairs)"
        )
    if access_key:
        return _PROFILE_FOR_ACCESS_KEY, f"chosen by {access_key}"
    if key_pair:
        return _PROFILE_FOR_KEY_PAIR, f"chosen by {key_pair}"
    if given["--base-url"] and not dry_run:
        raise pytest.UsageError(
            f"no credentials for {given['--base-url']}: pass --ak and --sk (or GHIPPO_AK and GHIPPO_SK) for an "
            "AK/SK pair, or --access-key (or GHIPPO_ACCESS_KEY) for an access key (Ghippo v0.14 and later)"
        )
    return DEFAULT_PROFILE, "the default: the embedded reference provisions its own credentials"


def _base_url(given: str | None, source: str | None) -> str | None:
    """The deployment's URL without a trailing slash. One that is not http(s) with a host (a path, a
    host without its scheme) is a usage error: it names no deployment the run could reach."""
    if given is None:
        return None
    parts = urlsplit(given.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise pytest.UsageError(
            f"{source} is not an http:// or https:// URL with a host, such as https://dce.example.com"
        )
    return given.rstrip("/")


def _state_dir(config: pytest.Config, given: str | None) -> Path | None:
    if config.getoption("no_state"):
        return None
    return Path(given).expanduser() if given else default_state_dir()


def _requirements(config: pytest.Config) -> tuple[str, ...]:
    given = ",".join(config.getoption("requirement"))
    return tuple(dict.fromkeys(rid.strip() for rid in given.split(",") if rid.strip()))


def resolve(config: pytest.Config) -> Settings:
    if config.getoption("cleanup") and config.getoption("collectonly", False):
        raise pytest.UsageError(
            "--cleanup deletes keys on the deployment and --collect-only sends it nothing: give one of them"
        )
    given, sources = _values(config)
    base_url = _base_url(given["--base-url"], sources["--base-url"])
    _require_base_url_for_credentials(given, sources)
    profile, profile_reason = _profile_and_reason(sources, given, config.getoption("dry_run"))
    ca_bundle = given["--ca-bundle"]
    max_rps = config.getoption("max_rps")
    if max_rps is None and given["--base-url"]:
        max_rps = GENTLE_RPS
    return Settings(
        base_url=base_url,
        profile=profile,
        profile_reason=profile_reason,
        profile_overrides=list(config.getoption("profile_set")),
        ak=given["--ak"],
        sk=given["--sk"],
        access_key=given["--access-key"],
        verify=False if config.getoption("insecure") else (ca_bundle or True),
        request_timeout=config.getoption("request_timeout"),
        max_body_mib=_max_body_mib(config),
        max_rps=max_rps or None,
        conformance_report=config.getoption("conformance_report"),
        summary_md=config.getoption("summary_md"),
        waivers=config.getoption("waivers"),
        baseline=config.getoption("baseline"),
        strict=bool(config.getoption("strict", False)),
        certify=config.getoption("certify"),
        read_only=config.getoption("read_only"),
        dry_run=config.getoption("dry_run"),
        cleanup=config.getoption("cleanup"),
        state_dir=_state_dir(config, given["--state-dir"]),
        reference_clock=_given(config, "--reference-clock", "GHIPPO_REFERENCE_CLOCK")[0],
        requirements=_requirements(config),
        seed=_seed(config),
        collect_only=bool(config.getoption("collectonly", False)),
        setup_only=bool(config.getoption("setuponly", False)),
        html_path=config.getoption("htmlpath", None),
        junit_path=config.getoption("xmlpath", None),
    )
