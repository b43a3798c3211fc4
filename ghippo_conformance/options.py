"""The suite's command-line options, known to pytest before it reads the command line (a pytest11
entry point, see pyproject.toml), so that `--state-dir PATH` works with a space as --help shows it.

pytest reads a command line twice. The first time it knows only its own options and looks for its
configuration file from the test locations given: an option it does not know yet leaves its value
standing alone, and a value that is an existing path is taken for a test location. The second time
it knows the options of every entry-point plugin (this module's among them), reads the value right,
and loads the checkout's conftest.py, whose plugin (plugin.py) runs the suite. When the first reading
took a path for a test location and found another configuration than the one the command line names
(none, for `--state-dir /srv/state`), the command is run again with each such option joined to its
value (`--state-dir=/srv/state`), which pytest reads right the first time.

In a pytest run that is not the suite's (the project's own tests, another project in the same
environment) this module adds the options and does nothing else.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from ghippo_conformance.deployment.settings import OPTION_GROUP, add_options
from ghippo_conformance.paths import ROOT, SUITES

# dest -> default of each of the suite's options, as registered (the same in every run)
_DEFAULTS: dict[str, object] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    _DEFAULTS.update({option.dest: option.default for option in parser.getgroup(OPTION_GROUP).options})


def _is_path(arg: str) -> bool:
    try:
        return Path(arg).exists()
    except (OSError, ValueError):  # a name too long for a path, a NUL in it
        return False


def _joined(args: list[str], test_locations: list[str]) -> list[str]:
    """`args` with each long option followed by an existing path that is no test location (so the
    option took it for its value) written as one word, `--option=path`."""
    joined: list[str] = []
    for arg in args:
        previous = joined[-1] if joined else ""
        takes_arg = previous.startswith("--") and previous != "--" and "=" not in previous
        if takes_arg and arg not in test_locations and _is_path(arg):
            joined[-1] = f"{previous}={arg}"
        else:
            joined.append(arg)
    return joined


def _configuration_misread(early_config: pytest.Config) -> bool:
    """Whether the first reading of the command line found another configuration (file, root folder)
    than the command line names with every option known. pytest's own function decides, as it did
    for the first reading; it is imported only when an option's path may have misled that reading."""
    from _pytest.config.findpaths import determine_setup

    known = early_config.known_args_namespace
    rootpath, inipath, *_ = determine_setup(
        inifile=known.inifilename,
        override_ini=known.override_ini,
        args=known.file_or_dir,
        rootdir_cmd_arg=known.rootdir or None,
        invocation_dir=early_config.invocation_params.dir,
    )
    return (rootpath, inipath) != (early_config.rootpath, early_config.inipath)


def _run_again(
    early_config: pytest.Config, command_line: list[str], addopts: list[str], test_locations: list[str]
) -> None:
    """Replace this process with the same command, each option joined to its path (in PYTEST_ADDOPTS
    too). Only a pytest started from its own command line can be run again; pytest.main called by a
    program gets a usage error saying how to write the options."""
    joined, joined_addopts = _joined(command_line, test_locations), _joined(addopts, test_locations)
    tail = len(sys.orig_argv) - len(command_line)
    if sys.argv[1:] != command_line or sys.orig_argv[tail:] != command_line:
        written = [arg for arg in joined if arg not in command_line] + [
            arg for arg in joined_addopts if arg not in addopts
        ]
        raise pytest.UsageError(
            f"pytest took the path after an option for a test location and read its configuration from "
            f"{early_config.rootpath}: join each option to its path with '=', as in {' '.join(written)}"
        )
    if joined_addopts != addopts:
        os.environ["PYTEST_ADDOPTS"] = shlex.join(joined_addopts)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:tail], *joined])


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: before pytest captures the output
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None]:
    test_locations = list(early_config.known_args_namespace.file_or_dir)
    command_line = list(early_config.invocation_params.args)
    addopts = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    path_after_option = _joined(command_line, test_locations) != command_line or (
        _joined(addopts, test_locations) != addopts
    )
    if path_after_option and _configuration_misread(early_config):
        _run_again(early_config, command_line, addopts, test_locations)
    return (yield)


@pytest.hookimpl(trylast=True)  # after every conftest's plugin has registered
def pytest_configure(config: pytest.Config) -> None:
    """The suite's options on the command line with the suite not loaded would do nothing: pytest,
    run from another folder, collects that folder's tests. Say how to run the suite instead."""
    if config.option.help or config.pluginmanager.has_plugin("ghippo_conformance.plugin"):
        return
    given = [dest for dest, default in _DEFAULTS.items() if config.getoption(dest) != default]
    if not given:
        return
    # A checkout's suites folder brings its plugin (the checkout's conftest.py); an installed one does not.
    in_checkout = f"name the suite's folder (pytest {SUITES} …) or " if (ROOT / "conftest.py").is_file() else ""
    raise pytest.UsageError(
        f"{', '.join('--' + dest.replace('_', '-') for dest in given)} given, but pytest has not loaded the "
        f"conformance suite (root {config.rootpath}): {in_checkout}run ghippo-conformance, which runs it from anywhere"
    )
