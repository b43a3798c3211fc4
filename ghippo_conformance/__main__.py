"""`ghippo-conformance [options] [pytest options]`: the installed suite, run without a checkout."""

import argparse
import os
import sys
from types import SimpleNamespace

import pytest

from ghippo_conformance import __version__, paths
from ghippo_conformance.deployment.settings import add_options
from ghippo_conformance.verdict import catalogue

# pytest's own help, which lists every pytest option after the suite's.
PYTEST_HELP = "--help-pytest"


def suite_help() -> str:
    """The suite's usage and options, as the plugin declares them (settings.add_options), before pytest's."""
    parser = argparse.ArgumentParser(
        prog="ghippo-conformance",
        usage="%(prog)s [options] [pytest options]",
        description="Run the Ghippo access-key API conformance suite against a deployment (--base-url), "
        "or against the embedded reference when none is given.",
        epilog=f"pytest's own options work too (-k, -m, -x, -n N, --junitxml PATH, --html PATH, ...): "
        f"%(prog)s {PYTEST_HELP} lists them. Exit codes: 0 pass (every MUST judged and held), 1 fail, "
        "17 partial (a MUST left unjudged: -k, --read-only, --requirement, a check that could not be made), "
        "15 incomplete, 16 the deployment stopped answering, 18 a check of the suite crashed, 4 usage error. "
        "Reports: see the README.",
        add_help=False,
    )
    # add_options speaks pytest's parser (getgroup, addoption); argparse takes the same arguments.
    add_options(
        SimpleNamespace(
            getgroup=lambda name, description: SimpleNamespace(
                addoption=parser.add_argument_group(description).add_argument
            )
        )
    )
    return parser.format_help()


def versions() -> str:
    return f"ghippo-conformance {__version__}, requirement catalogue {catalogue.load().version}"


def main() -> int:
    given = sys.argv[1:]
    if {"-h", "--help"} & set(given):
        print(suite_help())
        return 0
    if {"-V", "--version"} & set(given):
        print(versions())
        return 0
    if PYTEST_HELP in given:
        given = [argument if argument != PYTEST_HELP else "--help" for argument in given]
    # -p loads the plugin explicitly: only the options are an entry-point plugin (inert in other
    # projects' pytest runs, see options.py), never the run itself. An empty config file keeps whatever ini lies in
    # the working directory out; rootdir and confcutdir are the suites' folder, whose conftest
    # holds their fixtures; no cache folder is left behind; no assertion rewriting, as in the
    # project's pyproject.toml (the suites assert through expect.*).
    suites = str(paths.SUITES)
    args = [
        "-p",
        "ghippo_conformance.plugin",
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        # xunit1 as in pyproject.toml: the verdict's test-case properties are valid JUnit there.
        "-o",
        "junit_family=xunit1",
        "-c",
        os.devnull,
        "--rootdir",
        suites,
        "--confcutdir",
        suites,
        *given,
        suites,
    ]
    # Always the installed suites: an option's value (`-k token`) cannot be told from a path here,
    # so selection is by -k and -m, never by file.
    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main())
