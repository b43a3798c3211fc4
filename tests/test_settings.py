"""Nothing set but empty, nothing implicit against a deployment.

An option given an empty value, or a GHIPPO_* variable set but empty (what a CI system passes for a
secret nobody configured), is a usage error naming it: read as "not given", the run would test the
embedded reference and pass. Credentials without a base URL are one too: they belong to a deployment
the run would not test."""

import argparse
from types import SimpleNamespace

import pytest

from ghippo_conformance.deployment.settings import _STRING_OPTIONS, add_options, resolve
from suite_runner import run_suite

USAGE_ERROR = 4
BASE_URL = "https://dce.example.com"
KEY_PAIR = {"GHIPPO_AK": "a" * 36, "GHIPPO_SK": "s" * 36}
# The options that are pytest's own or its plugins', which resolve() reads too.
PYTEST_OPTIONS = {"hypothesis_seed": 1, "collectonly": False, "htmlpath": None, "xmlpath": None, "strict": False}


def config(*args: str) -> SimpleNamespace:
    """A stand-in for pytest's config with the suite's options parsed from `args`, as the plugin declares them."""
    parser = argparse.ArgumentParser()
    add_options(SimpleNamespace(getgroup=lambda name, description: SimpleNamespace(addoption=parser.add_argument)))
    option = SimpleNamespace(**PYTEST_OPTIONS, **vars(parser.parse_args(list(args))))
    return SimpleNamespace(option=option, getoption=lambda name, default=None: getattr(option, name, default))


@pytest.fixture(autouse=True)
def no_ghippo_environment(monkeypatch):
    for _, variable, _ in _STRING_OPTIONS:
        monkeypatch.delenv(variable, raising=False)


def usage_error_of(stand_in: SimpleNamespace) -> str:
    with pytest.raises(pytest.UsageError) as raised:
        resolve(stand_in)
    return str(raised.value)


def usage_error(*args: str) -> str:
    return usage_error_of(config(*args))


@pytest.mark.parametrize("blank", ["", " ", "\n"], ids=["empty", "space", "newline"])
@pytest.mark.parametrize("variable", [variable for _, variable, _ in _STRING_OPTIONS])
def test_a_variable_set_but_empty_is_a_usage_error_naming_it(monkeypatch, variable, blank):
    monkeypatch.setenv(variable, blank)
    message = usage_error()
    assert message.startswith(f"{variable} is set but empty"), message
    assert "a secret nobody configured" in message


@pytest.mark.parametrize("flag", [flag for flag, _, _ in _STRING_OPTIONS])
def test_an_option_given_an_empty_value_is_a_usage_error_naming_it(flag):
    assert usage_error(flag, "").startswith(f"{flag} is given an empty value"), flag


def test_every_empty_value_is_named_in_one_sentence(monkeypatch):
    for variable in ("GHIPPO_BASE_URL", "GHIPPO_AK", "GHIPPO_SK"):
        monkeypatch.setenv(variable, "")
    message = usage_error("--profile", " ")
    assert message.startswith("GHIPPO_BASE_URL, GHIPPO_AK and GHIPPO_SK are set but empty"), message
    assert "--profile is given an empty value" in message


def test_an_empty_variable_the_command_line_overrides_is_not_read(monkeypatch):
    monkeypatch.setenv("GHIPPO_PROFILE", "")
    assert resolve(config("--profile", "dce5-aksk")).profile == "dce5-aksk"


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["run", "dry-run"])
@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        pytest.param([], KEY_PAIR, "GHIPPO_AK and GHIPPO_SK name credentials", id="key-pair"),
        pytest.param([], {"GHIPPO_SK": "s" * 36}, "GHIPPO_SK names credentials", id="sk-alone"),
        pytest.param(["--access-key", "k" * 40], {}, "--access-key names credentials", id="access-key"),
    ],
)
def test_credentials_without_a_base_url_are_a_usage_error(monkeypatch, args, env, named, dry_run):
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    message = usage_error(*args, *dry_run)
    assert message.startswith(named) and "no base URL is given" in message, message
    assert "k" * 40 not in message and "s" * 36 not in message


def test_credentials_with_a_base_url_name_the_deployment(monkeypatch):
    for variable, value in {**KEY_PAIR, "GHIPPO_BASE_URL": BASE_URL + "/"}.items():
        monkeypatch.setenv(variable, value)
    settings = resolve(config())
    assert (settings.base_url, settings.profile, settings.ak) == (BASE_URL, "dce5-aksk", "a" * 36)


def test_nothing_naming_a_deployment_means_the_embedded_reference():
    settings = resolve(config())
    assert settings.base_url is None and settings.ak is None and settings.access_key is None


@pytest.mark.parametrize("base_url", ["dce.example.com", "/", "ftp://dce.example.com", "https://"])
def test_a_base_url_that_is_no_http_url_is_a_usage_error(base_url):
    assert usage_error("--base-url", base_url).startswith("--base-url is not an http:// or https:// URL")


@pytest.mark.suite_run
def test_empty_ci_secrets_stop_the_readmes_ci_command():
    """The CI command of the README with its three secrets unconfigured: a usage error, not a green gate."""
    run = run_suite("--profile", "dce5-aksk", env={"GHIPPO_BASE_URL": "", "GHIPPO_AK": "", "GHIPPO_SK": ""})
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert run.exit_code == USAGE_ERROR, run.output
    assert len(lines) == 1 and "GHIPPO_BASE_URL, GHIPPO_AK and GHIPPO_SK are set but empty" in lines[0], run.output
    assert "verdict" not in run.output


def test_cleanup_and_collect_only_together_are_a_usage_error():
    stand_in = config("--cleanup")
    stand_in.option.collectonly = True
    assert usage_error_of(stand_in).startswith("--cleanup deletes keys")
