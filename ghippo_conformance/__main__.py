"""`ghippo-conformance [pytest options]`: the installed suite, run without a checkout."""

import os
import sys

import pytest

from ghippo_conformance.checks import paths


def main() -> int:
    # -p loads the plugin explicitly: it is not an entry-point plugin, so installing the package
    # never changes other projects' pytest runs. An empty config file keeps whatever ini lies in
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
        *sys.argv[1:],
        suites,
    ]
    # Always the installed suites: an option's value (`-k token`) cannot be told from a path here,
    # so selection is by -k and -m, never by file.
    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main())
